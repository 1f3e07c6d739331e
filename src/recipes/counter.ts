// Shared counter: one node holding a signed 64-bit big-endian integer (the encoding of Curator's
// DistributedAtomicLong), changed by compare-and-set on the node version: read value + version,
// write with that version, and on BADVERSION (someone else won) read again and retry.

import { isZooKeeperError, type ZooKeeperClient } from '../client/index.js';

export interface CounterValue {
  value: number;
  /** Node version: pass to trySet for a conditional write. */
  version: number;
}

function encode(value: number): Buffer {
  if (!Number.isSafeInteger(value)) throw new Error(`counter value must be a safe integer: ${value}`);
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(value));
  return b;
}

function decode(data: Buffer | null): number {
  if (data === null || data.length === 0) return 0;
  if (data.length !== 8) throw new Error(`counter node holds ${data.length} bytes, expected 8`);
  return Number(data.readBigInt64BE());
}

export class SharedCounter {
  constructor(
    private readonly client: ZooKeeperClient,
    readonly path: string,
    private readonly initial = 0,
    /** Compare-and-set rounds before giving up under contention. */
    private readonly attempts_max = 10_000,
  ) {}

  async get(): Promise<CounterValue> {
    for (;;) {
      try {
        const got = await this.client.getData(this.path);
        return { value: decode(got.data), version: got.stat.version };
      } catch (e) {
        if (!isZooKeeperError(e, 'NONODE')) throw e;
        await this.createInitial();
      }
    }
  }

  /** Sets the value if the node is still at `version`; false if someone changed it first. */
  async trySet(value: number, version: number): Promise<boolean> {
    try {
      await this.client.setData(this.path, encode(value), version);
      return true;
    } catch (e) {
      if (isZooKeeperError(e, 'BADVERSION')) return false;
      throw e;
    }
  }

  /** Adds `delta` atomically; resolves with the new value. */
  async add(delta: number): Promise<number> {
    for (let attempt = 0; attempt < this.attempts_max; attempt++) {
      const { value, version } = await this.get();
      if (await this.trySet(value + delta, version)) return value + delta;
    }
    throw new Error(`SharedCounter ${this.path}: no compare-and-set won in ${this.attempts_max} attempts`);
  }

  increment(): Promise<number> {
    return this.add(1);
  }

  decrement(): Promise<number> {
    return this.add(-1);
  }

  /** Unconditional write. */
  async set(value: number): Promise<void> {
    await this.get();
    await this.client.setData(this.path, encode(value));
  }

  private async createInitial(): Promise<void> {
    const slash = this.path.lastIndexOf('/');
    if (slash > 0) await this.client.mkdirp(this.path.slice(0, slash));
    try {
      await this.client.create(this.path, encode(this.initial));
    } catch (e) {
      if (!isZooKeeperError(e, 'NODEEXISTS')) throw e;
    }
  }
}
