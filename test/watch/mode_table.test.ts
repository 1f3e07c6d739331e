import { describe, it, expect } from 'vitest';
import { ModeTable, Mode, MODES_ALL, parentOf } from '../../src/watch/mode_table.js';

describe('parentOf', () => {
  it('walks up to the root', () => {
    expect(parentOf('/a/b/c')).toBe('/a/b');
    expect(parentOf('/a')).toBe('/');
    expect(parentOf('/')).toBeUndefined();
  });
});

describe('ModeTable bookkeeping', () => {
  it('counts recursive entries so ancestor walks stop when the last one goes', () => {
    const t = new ModeTable();
    t.add('/a', 1, Mode.RECURSIVE);
    t.add('/a', 1, Mode.STANDARD);
    t.add('/b', 2, Mode.RECURSIVE);
    expect(t.recursiveCount()).toBe(2);
    const fired = new Set<number>();
    t.trigger('/a', fired); // consumes 1's STANDARD, keeps its RECURSIVE
    expect([...fired]).toEqual([1]);
    expect(t.recursiveCount()).toBe(2);
    expect(t.remove('/a', 1, Mode.RECURSIVE)).toBe(true);
    expect(t.recursiveCount()).toBe(1);
    t.removeWatcher(2);
    expect(t.recursiveCount()).toBe(0);
    expect(t.size()).toBe(0);
    expect([...t.paths()]).toEqual([]);
    expect([...t.watchers()]).toEqual([]);
  });

  it('one entry per (path, watcher) whatever its modes', () => {
    const t = new ModeTable();
    expect(t.add('/a', 1, Mode.STANDARD)).toBe(true);
    expect(t.add('/a', 1, Mode.STANDARD)).toBe(false);
    expect(t.add('/a', 1, Mode.PERSISTENT)).toBe(true);
    expect(t.size()).toBe(1);
    expect(t.sizeOf(1)).toBe(1);
    expect(t.remove('/a', 1, Mode.RECURSIVE)).toBe(false);
    expect(t.remove('/a', 1, MODES_ALL)).toBe(true);
    expect(t.size()).toBe(0);
    expect(t.has('/a', 1, MODES_ALL)).toBe(false);
  });

  it('refuses mode masks where a single mode is expected', () => {
    const t = new ModeTable();
    expect(() => t.add('/a', 1, MODES_ALL)).toThrow();
    expect(() => t.add('/a', 1, 0)).toThrow();
  });
});
