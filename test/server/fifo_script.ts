// A deterministic script of mixed requests for one session under its own subtree, with the reply
// each request must get if the server executes the session's requests one by one in send order.
// The expectations come from a tiny model (versions and children) updated as the script is built,
// so every read encodes "all earlier writes of this session are visible".

import { expect } from 'vitest';
import { Err } from '../../src/protocol/errors.js';
import type { OpCode, RequestInput } from '../../src/protocol/messages.js';
import type { Create2Response, GetChildren2Response, GetDataResponse, MultiResult, StatResponse } from '../../src/protocol/types.js';
import type { Reply } from '../support/wire_client.js';
import { OPEN_ACL, text, utf8 } from './harness.js';

export interface Step {
  type: OpCode;
  body: unknown;
  /** Throws (vitest expect) when the reply is not what sequential execution gives. */
  check(r: Reply): void;
  label: string;
}

function step<C extends OpCode>(label: string, type: C, body: RequestInput<C>, check: (r: Reply) => void): Step {
  return { label, type, body, check };
}

function ok(label: string, r: Reply): void {
  expect(r.err, label).toBe(0);
}

/**
 * About `ops_min` requests under `root` (which must exist and be empty): create, setData, getData,
 * exists, getChildren2, sync, check, multi, delete, in a repeating pattern.
 */
export function fifoScript(root: string, ops_min: number): Step[] {
  const steps: Step[] = [];
  const children = new Set<string>();
  const counter = `${root}/c`;
  let counter_version = 0;
  steps.push(
    step(`create ${counter}`, 1, { path: counter, data: utf8('start'), acl: OPEN_ACL, flags: 0 }, (r) => ok(`create ${counter}`, r)),
  );
  children.add('c');
  const listing = (): string[] => [...children].sort();
  for (let k = 0; steps.length < ops_min; k++) {
    const node = `${root}/n${k}`;
    const prev = `${root}/n${k - 1}`;
    const v_counter_next = counter_version + 1;
    steps.push(
      step(`create2 ${node}`, 15, { path: node, data: utf8(`d${k}`), acl: OPEN_ACL, flags: 0 }, (r) => {
        ok(`create2 ${node}`, r);
        expect((r.body as Create2Response).path).toBe(node);
        expect((r.body as Create2Response).stat.version).toBe(0);
      }),
      step(`setData ${node}`, 5, { path: node, data: utf8(`e${k}`), version: 0 }, (r) => {
        ok(`setData ${node} (version 0 must match: the create before it is applied)`, r);
        expect((r.body as StatResponse).stat.version).toBe(1);
      }),
      step(`getData ${node}`, 4, { path: node, watch: false }, (r) => {
        ok(`getData ${node}`, r);
        const body = r.body as GetDataResponse;
        expect(text(body.data), `getData ${node} must show the setData before it`).toBe(`e${k}`);
        expect(body.stat.version).toBe(1);
      }),
      step(`exists ${node}`, 3, { path: node, watch: false }, (r) => {
        ok(`exists ${node}`, r);
        expect((r.body as StatResponse).stat.version).toBe(1);
      }),
    );
    counter_version = v_counter_next;
    const cv = counter_version;
    steps.push(
      step(`setData ${counter} #${cv}`, 5, { path: counter, data: utf8(`v${cv}`), version: -1 }, (r) => {
        ok(`setData ${counter}`, r);
        expect((r.body as StatResponse).stat.version, `setData ${counter} #${cv}`).toBe(cv);
      }),
      step(`getData ${counter} after #${cv}`, 4, { path: counter, watch: false }, (r) => {
        ok(`getData ${counter}`, r);
        const body = r.body as GetDataResponse;
        expect(body.stat.version, `read-your-writes: getData after setData #${cv}`).toBe(cv);
        expect(text(body.data)).toBe(`v${cv}`);
      }),
    );
    children.add(`n${k}`);
    const expected_children = listing();
    steps.push(
      step(`getChildren2 ${root} (${expected_children.length})`, 12, { path: root, watch: false }, (r) => {
        ok(`getChildren2 ${root}`, r);
        const body = r.body as GetChildren2Response;
        expect([...body.children].sort(), `children of ${root} after step k=${k}`).toEqual(expected_children);
        expect(body.stat.numChildren).toBe(expected_children.length);
      }),
      step(`sync ${root}`, 9, { path: root }, (r) => {
        ok(`sync ${root}`, r);
        expect((r.body as { path: string }).path).toBe(root);
      }),
      step(`check ${counter} @${cv}`, 13, { path: counter, version: cv }, (r) => ok(`check ${counter} version ${cv}`, r)),
      step(`check ${counter} @${cv - 1}`, 13, { path: counter, version: cv - 1 }, (r) =>
        expect(r.err, `check ${counter} with stale version ${cv - 1}`).toBe(Err.BADVERSION),
      ),
    );
    // multi: bump the counter and create a marker node, atomically.
    const marker = `${root}/m${k}`;
    counter_version++;
    const cv2 = counter_version;
    steps.push(
      step(
        `multi ${counter}#${cv2} + ${marker}`,
        14,
        {
          ops: [
            { type: 5, request: { path: counter, data: utf8(`v${cv2}`), version: cv2 - 1 } },
            { type: 1, request: { path: marker, data: null, acl: OPEN_ACL, flags: 0 } },
          ],
        },
        (r) => {
          ok(`multi`, r);
          const results = r.body as MultiResult[];
          expect(results.map((x) => x.type), `multi results (${marker})`).toEqual([5, 1]);
          expect((results[0].response as StatResponse).stat.version).toBe(cv2);
        },
      ),
    );
    children.add(`m${k}`);
    if (k > 0) {
      children.delete(`n${k - 1}`);
      children.delete(`m${k - 1}`);
      steps.push(
        step(`delete ${prev}`, 2, { path: prev, version: 1 }, (r) => ok(`delete ${prev}`, r)),
        step(`delete ${root}/m${k - 1}`, 2, { path: `${root}/m${k - 1}`, version: -1 }, (r) => ok(`delete m${k - 1}`, r)),
        step(`getData ${prev} after delete`, 4, { path: prev, watch: false }, (r) =>
          expect(r.err, `getData ${prev} after its delete`).toBe(Err.NONODE),
        ),
      );
    }
    steps.push(
      step(`exists ${counter} @${cv2}`, 3, { path: counter, watch: false }, (r) => {
        ok(`exists ${counter}`, r);
        expect((r.body as StatResponse).stat.version, `exists after multi #${cv2}`).toBe(cv2);
      }),
    );
  }
  return steps;
}
