import { describe, expect, it } from 'vitest';
import { OpenRootMarks, ROOT_ANSWER, ROOT_TXN } from '../../src/workers/open_root_marks.js';

// The commit stage asks these marks whether a connection already has a completion in the open
// root (a txn, or an answer at the root's zxid): a wrong answer would put a session's write in
// the root its earlier read is served from, or split roots needlessly.

describe('OpenRootMarks', () => {
  it('remembers a mark per shard and connection until the root is sealed', () => {
    const marks = new OpenRootMarks();
    expect(marks.get(0, 7)).toBe(0);
    marks.set(0, 7, ROOT_TXN);
    marks.set(1, 7, ROOT_ANSWER);
    expect(marks.get(0, 7)).toBe(ROOT_TXN);
    expect(marks.get(1, 7)).toBe(ROOT_ANSWER);
    expect(marks.get(0, 8)).toBe(0);
    marks.set(0, 7, ROOT_ANSWER);
    expect(marks.get(0, 7)).toBe(ROOT_ANSWER);
    marks.seal();
    expect(marks.get(0, 7)).toBe(0);
    expect(marks.get(1, 7)).toBe(0);
    marks.set(1, 7, ROOT_TXN);
    expect(marks.get(1, 7)).toBe(ROOT_TXN);
  });

  it('forgets everything on clear', () => {
    const marks = new OpenRootMarks();
    marks.set(3, 1, ROOT_TXN);
    marks.clear();
    expect(marks.get(3, 1)).toBe(0);
  });

  it('keeps answering right across rebuilds (too many marks) and serial wrap-arounds', () => {
    // A model: the marks of the open root only.
    const marks = new OpenRootMarks(5, 3);
    let model = new Map<string, number>();
    let seed = 12345;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let step = 0; step < 5000; step++) {
      const shard = next(3);
      const conn = 1 + next(20);
      if (next(4) === 0) {
        marks.seal();
        model = new Map();
      } else if (next(2) === 0) {
        const mark = next(2) === 0 ? ROOT_TXN : ROOT_ANSWER;
        marks.set(shard, conn, mark);
        model.set(`${shard}/${conn}`, mark);
      }
      for (let s = 0; s < 3; s++) for (let c = 1; c <= 20; c++) expect(marks.get(s, c), `step ${step}: ${s}/${c}`).toBe(model.get(`${s}/${c}`) ?? 0);
    }
  });

  it('rejects bounds out of range', () => {
    expect(() => new OpenRootMarks(-1)).toThrow(/marks_max/);
    expect(() => new OpenRootMarks(10, 2 ** 29)).toThrow(/serial_max/);
  });
});
