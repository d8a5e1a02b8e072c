import { HealthMarks } from '../../../lib/resilience/health-marks.js';
import { clock } from '../../kit/clock.js';

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
});
