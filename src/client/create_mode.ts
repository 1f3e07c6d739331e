// Create modes (CreateMode.java) as data: flags on the wire, the opcode each create flavour uses
// (ZooKeeper.java: containers use createContainer, TTL modes use createTTL), and the properties
// the retry logic needs.

import { Op } from '../protocol/opcodes.js';

export type CreateModeName =
  | 'persistent'
  | 'ephemeral'
  | 'persistentSequential'
  | 'ephemeralSequential'
  | 'container'
  | 'persistentWithTtl'
  | 'persistentSequentialWithTtl';

export interface CreateModeSpec {
  readonly flags: number;
  readonly sequential: boolean;
  readonly ephemeral: boolean;
  readonly ttl: boolean;
  /** Opcode for create() (path only) and create2() (path + stat). */
  readonly opcode: typeof Op.create | typeof Op.createContainer | typeof Op.createTTL;
  readonly opcode2: typeof Op.create2 | typeof Op.createContainer | typeof Op.createTTL;
}

export const CREATE_MODES: Readonly<Record<CreateModeName, CreateModeSpec>> = {
  persistent: { flags: 0, sequential: false, ephemeral: false, ttl: false, opcode: Op.create, opcode2: Op.create2 },
  ephemeral: { flags: 1, sequential: false, ephemeral: true, ttl: false, opcode: Op.create, opcode2: Op.create2 },
  persistentSequential: { flags: 2, sequential: true, ephemeral: false, ttl: false, opcode: Op.create, opcode2: Op.create2 },
  ephemeralSequential: { flags: 3, sequential: true, ephemeral: true, ttl: false, opcode: Op.create, opcode2: Op.create2 },
  container: { flags: 4, sequential: false, ephemeral: false, ttl: false, opcode: Op.createContainer, opcode2: Op.createContainer },
  persistentWithTtl: { flags: 5, sequential: false, ephemeral: false, ttl: true, opcode: Op.createTTL, opcode2: Op.createTTL },
  persistentSequentialWithTtl: { flags: 6, sequential: true, ephemeral: false, ttl: true, opcode: Op.createTTL, opcode2: Op.createTTL },
};

/** `ttl_ms` turns persistent modes into their TTL twins, as zkCli's `create -t` does. */
export function resolveCreateMode(mode: CreateModeName, ttl_ms: number | undefined): CreateModeSpec & { name: CreateModeName } {
  if (ttl_ms === undefined) return { ...CREATE_MODES[mode], name: mode };
  const name: CreateModeName | undefined =
    mode === 'persistent' || mode === 'persistentWithTtl'
      ? 'persistentWithTtl'
      : mode === 'persistentSequential' || mode === 'persistentSequentialWithTtl'
        ? 'persistentSequentialWithTtl'
        : undefined;
  if (name === undefined) throw new Error(`a TTL needs a persistent mode, not ${mode}`);
  return { ...CREATE_MODES[name], name };
}
