// Backpressure from a full net -> shard ring to the sockets (src/workers/net/ring_backpressure.ts),
// against a scripted link: the ring may stay full for any number of drain steps (each one is a
// second in the net worker), and every connection paused for it must be read again once it drains.
//
// How these fail: the bug this replaced (issue 10, item 8): after a drain step that timed out
// the pause logic called itself again, returned early because the connection was still marked
// paused, and never resumed the socket, so a client that kept sending saw its session expire.
// Also: a connection resumed twice or never paused, a closed connection resumed, frames parked
// with no connection paused (an OPEN or CLOSED notice) left in the overflow, a loop that
// outlives stop().

import { describe, expect, it } from 'vitest';
import { RingBackpressure, type DrainableLink } from '../../src/workers/net/ring_backpressure.js';

/** A link whose ring stays full for `full_steps` drain steps, then drains. */
class ScriptedLink implements DrainableLink {
  blocked = false;
  drain_calls = 0;
  private waiting: Array<(ok: boolean) => void> = [];

  constructor(public full_steps: number) {}

  drainAsync(_timeout_ms: number): Promise<boolean> {
    this.drain_calls++;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Ends the pending drain step: the ring is still full, or (once full_steps ran out) drained. */
  step(): void {
    const w = this.waiting.shift();
    if (w === undefined) throw new Error('no drain step pending');
    if (this.full_steps > 0) {
      this.full_steps--;
      w(false);
    } else {
      this.blocked = false;
      w(true);
    }
  }

  get pending(): number {
    return this.waiting.length;
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setup(full_steps: number): { link: ScriptedLink; bp: RingBackpressure<string>; log: string[] } {
  const link = new ScriptedLink(full_steps);
  const log: string[] = [];
  const bp = new RingBackpressure<string>(link, { pause: (c) => log.push(`pause ${c}`), resume: (c) => log.push(`resume ${c}`) }, 1000);
  return { link, bp, log };
}

/** Runs drain steps until none is pending. */
async function runSteps(link: ScriptedLink): Promise<number> {
  let steps = 0;
  await tick();
  while (link.pending > 0) {
    link.step();
    steps++;
    await tick();
  }
  return steps;
}

describe('RingBackpressure', () => {
  it('a ring that stays full for several drain steps (> 1 s each): the connection is resumed once it drains', async () => {
    const { link, bp, log } = setup(3);
    link.blocked = true;
    bp.afterSend('a');
    expect(log).toEqual(['pause a']);
    expect(await runSteps(link)).toBe(4);
    expect(log).toEqual(['pause a', 'resume a']);
    expect(bp.isPaused('a')).toBe(false);
    expect(bp.long_waits).toBe(3);
  });

  it('every connection paused on the link is resumed, each once; more data while paused does not pause twice', async () => {
    const { link, bp, log } = setup(2);
    link.blocked = true;
    bp.afterSend('a');
    bp.afterSend('b');
    bp.afterSend('a');
    expect(link.drain_calls).toBe(1);
    await runSteps(link);
    expect(log).toEqual(['pause a', 'pause b', 'resume a', 'resume b']);
  });

  it('a link that is not blocked pauses nobody', async () => {
    const { link, bp, log } = setup(0);
    bp.afterSend('a');
    expect(await runSteps(link)).toBe(0);
    expect(log).toEqual([]);
  });

  it('frames parked without any connection paused (OPEN / CLOSED notices) are still drained', async () => {
    const { link, bp } = setup(1);
    link.blocked = true;
    bp.afterSend(null);
    expect(await runSteps(link)).toBe(2);
    expect(link.blocked).toBe(false);
  });

  it('a connection that closed while paused is not resumed', async () => {
    const { link, bp, log } = setup(1);
    link.blocked = true;
    bp.afterSend('a');
    bp.afterSend('b');
    bp.forget('a');
    await runSteps(link);
    expect(log).toEqual(['pause a', 'pause b', 'resume b']);
  });

  it('a link that blocks again after draining pauses and resumes again', async () => {
    const { link, bp, log } = setup(0);
    link.blocked = true;
    bp.afterSend('a');
    await runSteps(link);
    link.full_steps = 2;
    link.blocked = true;
    bp.afterSend('a');
    await runSteps(link);
    expect(log).toEqual(['pause a', 'resume a', 'pause a', 'resume a']);
  });

  it('stop() ends the drain loop at its next step and resumes nobody', async () => {
    const { link, bp, log } = setup(1000);
    link.blocked = true;
    bp.afterSend('a');
    await tick();
    link.step();
    await tick();
    bp.stop();
    link.step();
    await tick();
    expect(link.pending).toBe(0);
    expect(log).toEqual(['pause a']);
    bp.afterSend('b');
    expect(link.pending).toBe(0);
  });
});
