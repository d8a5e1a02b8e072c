import { HealthMarks } from '../../../lib/resilience/health-marks.js';
import { MemoryStore } from '../../../lib/state/memory-store.js';
import type { SharedRecords } from '../../../lib/state/types.js';
import { clock } from '../../kit/clock.js';

/** Counts the record writes the marks make (each one a Redis write with a shared store). */
class CountingStore extends MemoryStore {
  writes = 0;
  override records<T>(namespace: string): SharedRecords<T> {
    const records = super.records<T>(namespace);
    const update = records.update.bind(records);
    records.update = (key, fn) => {
      this.writes++;
      return update(key, fn);
    };
    return records;
  }
}

describe('HealthMarks', () => {
  it('marks pairs unhealthy until a later healthy result, or until the mark goes stale', () => {
    const time = clock();
    const marks = new HealthMarks(10_000, time.now);
    expect(marks.isUnhealthy(1, 'm')).toBe(false);
    marks.mark(1, 'm', false);
    expect(marks.isUnhealthy(1, 'm')).toBe(true);
    expect(marks.isUnhealthy('1', 'other')).toBe(false);
    marks.mark(1, 'm', true);
    expect(marks.isUnhealthy(1, 'm')).toBe(false);
    marks.mark(1, 'm', false);
    time.advance(9_999);
    expect(marks.isUnhealthy(1, 'm')).toBe(true);
    expect(marks.report()).toEqual([{ provider_id: 1, model: 'm', unhealthy_since: new Date(time.now() - 9_999).toISOString() }]);
    time.advance(1);
    expect(marks.isUnhealthy(1, 'm')).toBe(false);
    expect(marks.report()).toEqual([]);
  });

  it('writes nothing for a healthy result on a pair without a mark (every successful request reports one)', () => {
    const store = new CountingStore();
    const marks = new HealthMarks(10_000, Date.now, store);
    for (let i = 0; i < 5; i++) marks.mark(1, 'm', true);
    expect(store.writes).toBe(0);
    marks.mark(1, 'm', false);
    marks.mark(1, 'm', true);
    marks.mark(1, 'm', true);
    expect(store.writes).toBe(2);
    expect(store.records('health').size).toBe(0);
  });

  it('drops a stale mark from the store when it is read', () => {
    const time = clock();
    const store = new MemoryStore();
    const marks = new HealthMarks(10_000, time.now, store);
    marks.mark(1, 'm', false);
    time.advance(10_000);
    expect(marks.isUnhealthy(1, 'm')).toBe(false);
    expect(store.records('health').size).toBe(0);
  });
});
