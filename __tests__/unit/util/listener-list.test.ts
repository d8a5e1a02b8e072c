/** The list behind the router's stop listeners: add, remove in any order, take all in order. */
import { ListenerList } from '../../../lib/util/listener-list.js';

describe('ListenerList', () => {
  const named = (log: string[], name: string) => () => log.push(name);

  it('takes its listeners oldest first and is empty afterwards', () => {
    const list = new ListenerList();
    const log: string[] = [];
    list.add(named(log, 'a'));
    list.add(named(log, 'b'));
    list.add(named(log, 'c'));
    for (const listener of list.takeAll()) listener();
    expect(log).toEqual(['a', 'b', 'c']);
    expect(list.takeAll()).toEqual([]);
  });

  it('removes the first, a middle and the last listener, and a second removal changes nothing', () => {
    const list = new ListenerList();
    const log: string[] = [];
    const removeA = list.add(named(log, 'a'));
    list.add(named(log, 'b'));
    const removeC = list.add(named(log, 'c'));
    list.add(named(log, 'd'));
    const removeE = list.add(named(log, 'e'));
    removeC();
    removeA();
    removeE();
    removeC();
    for (const listener of list.takeAll()) listener();
    expect(log).toEqual(['b', 'd']);
  });

  it('keeps the same function added twice as two listeners', () => {
    const list = new ListenerList();
    const log: string[] = [];
    const listener = named(log, 'x');
    const removeFirst = list.add(listener);
    list.add(listener);
    removeFirst();
    for (const taken of list.takeAll()) taken();
    expect(log).toEqual(['x']);
  });

  it('lets a listener removed after takeAll go without touching the emptied list', () => {
    const list = new ListenerList();
    const remove = list.add(() => {});
    list.takeAll();
    const log: string[] = [];
    list.add(named(log, 'later'));
    remove();
    for (const listener of list.takeAll()) listener();
    expect(log).toEqual(['later']);
  });
});
