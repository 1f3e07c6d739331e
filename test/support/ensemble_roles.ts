// Who is who in a running waitfree ensemble (test/support/ensemble.ts), seen from outside through
// four-letter words: which member leads (`srvr`), which member holds a client's session (`cons`),
// and a leader kill followed by the election of another one. Every wait is bounded.

import { fourLetter } from '../../src/check/four_letter.js';
import type { Ensemble, SrvrAnswers } from './ensemble.js';

const CONS_TIMEOUT_MS = 2_000;
const POLL_INTERVAL_MS = 100;

/** `Mode:` of a `srvr` answer: 'leader', 'follower', 'observer', 'looking'; null without one. */
export function modeOf(answer: string | null | undefined): string | null {
  return answer?.match(/^Mode: (\S+)/m)?.[1] ?? null;
}

/** `Zxid:` of a `srvr` answer (hex text); null without one. */
export function zxidOf(answer: string | null | undefined): string | null {
  return answer?.match(/^Zxid: (\S+)/m)?.[1] ?? null;
}

/** Every live member answers as leader, follower or observer, exactly one leads, and (with
 *  same_zxid) all report the same last zxid. */
export function serving(e: Ensemble, opts: { same_zxid?: boolean } = {}): (a: SrvrAnswers) => boolean {
  return (a) => {
    const live = e.members.filter((m) => m.alive());
    const modes = live.map((m) => modeOf(a.get(m.sid)));
    if (modes.length === 0 || modes.some((x) => x !== 'leader' && x !== 'follower' && x !== 'observer')) return false;
    if (modes.filter((x) => x === 'leader').length !== 1) return false;
    return opts.same_zxid !== true || new Set(live.map((m) => zxidOf(a.get(m.sid)))).size === 1;
  };
}

/** The leader's sid once the live members serve; throws after `timeout_ms`. */
export async function leaderSid(e: Ensemble, timeout_ms: number): Promise<number> {
  const a = await e.waitFor(serving(e), timeout_ms);
  const leader = e.members.find((m) => m.alive() && modeOf(a.get(m.sid)) === 'leader');
  if (leader === undefined) throw new Error('leaderSid: serving() held but no live member answered "Mode: leader"');
  return leader.sid;
}

/** `sid=0x...` as `cons` prints a session id (lower-case hex, no leading zeros). */
export function consSessionId(session_id: bigint): string {
  return `sid=0x${BigInt.asUintN(64, session_id).toString(16)}`;
}

/**
 * The sid of the one live member whose `cons` lists a connection of session `session_id`.
 * Polls until exactly one member lists it (a client between servers is listed by none); throws
 * after `timeout_ms` with every member's last answer.
 */
export async function sessionHolderSid(e: Ensemble, session_id: bigint, timeout_ms: number): Promise<number> {
  const needle = consSessionId(session_id);
  const deadline = Date.now() + timeout_ms;
  let last: string[] = [];
  for (;;) {
    const live = e.members.filter((m) => m.alive());
    const answers = await Promise.all(live.map((m) => fourLetter(m.client_port, 'cons', CONS_TIMEOUT_MS).catch((err: Error) => `error: ${err.message}`)));
    const holders = live.filter((_, i) => answers[i]!.includes(`${needle},`) || answers[i]!.includes(`${needle})`));
    if (holders.length === 1) return holders[0]!.sid;
    last = live.map((m, i) => `server.${m.sid}: ${JSON.stringify(answers[i])}`);
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  throw new Error(`sessionHolderSid: no single member lists ${needle} after ${timeout_ms} ms; cons:\n${last.join('\n')}`);
}

/**
 * SIGKILLs the current leader and waits until the survivors serve under another leader.
 * Needs a quorum among the survivors (3 members, all running, before the call).
 */
export async function killLeader(e: Ensemble, timeout_ms: number): Promise<{ old_leader: number; new_leader: number }> {
  const old_leader = await leaderSid(e, timeout_ms);
  await e.kill(old_leader, 'SIGKILL');
  const new_leader = await leaderSid(e, timeout_ms);
  if (new_leader === old_leader) throw new Error(`killLeader: server.${old_leader} still leads after SIGKILL`);
  return { old_leader, new_leader };
}
