// The README examples against a live server (see support/readme_examples.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZooKeeperClient } from '../../../src/client/index.js';
import { ExampleRunner, readmeExamples } from '../support/readme_examples.js';
import type { Target } from '../support/targets.js';

export function defineReadmeSuite(label: string, start: () => Promise<Target>): void {
  describe(`README client and recipe examples vs ${label}`, () => {
    let target: Target;
    let admin: ZooKeeperClient;
    const runner = new ExampleRunner();
    beforeAll(async () => {
      target = await start();
      admin = await ZooKeeperClient.connect(target.connectString);
    });
    afterAll(async () => {
      runner.cleanup();
      await admin?.close();
      await target?.stop();
    });

    const examples = readmeExamples();
    it('the section has an example per recipe, and most state their output', () => {
      const all = examples.map((e) => e.code).join('\n');
      for (const name of ['Lock', 'ReadWriteLock', 'Semaphore', 'LeaderLatch', 'LeaderSelector', 'GroupMember', 'Barrier', 'DoubleBarrier', 'DistributedQueue', 'SharedCounter', 'NodeCache', 'TreeCache', 'ServiceDiscovery']) {
        expect(all, name).toContain(`new ${name}(`);
      }
      expect(examples.every((e) => e.expected !== null)).toBe(true);
    });

    for (const [i, example] of examples.entries()) {
      it(`example ${i + 1} (README.md line ${example.line}) runs as written`, async () => {
        const chroot = `/readme-${process.pid}-${i}`;
        await admin.create(chroot);
        const r = await runner.run(example, `${target.connectString}${chroot}`);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        if (example.expected !== null) expect(r.stdout).toBe(example.expected);
      });
    }
  });
}
