import { describe, expect, it } from 'vitest';
import { frameBytes, Ring, RingCorruptError, type RingOptions } from '../../src/ring/ring.js';
import { drain, payload } from './helpers.js';

function ring(options: RingOptions) {
  const sab = Ring.create(options);
  const producer = Ring.attachProducer(sab);
  const consumers = Array.from({ length: options.consumers ?? 1 }, (_, i) => Ring.attachConsumer(sab, i));
  return { sab, producer, consumers, consumer: consumers[0] };
}

describe('ring construction', () => {
  it('rejects capacities that are not a power of two in [4 KiB, 1 GiB]', () => {
    for (const capacity_bytes of [0, 1000, 2048, 6144, 4096 + 8, 2 ** 31, 1.5]) {
      expect(() => Ring.create({ capacity_bytes })).toThrow(RangeError);
    }
    expect(() => Ring.create({ capacity_bytes: 4096 })).not.toThrow();
  });

  it('rejects frame_bytes_max above capacity/2 - 4 and consumer counts outside 1..32', () => {
    expect(() => Ring.create({ capacity_bytes: 4096, frame_bytes_max: 2045 })).toThrow(/frame_bytes_max/);
    expect(() => Ring.create({ capacity_bytes: 4096, frame_bytes_max: 0 })).toThrow(/frame_bytes_max/);
    expect(() => Ring.create({ capacity_bytes: 4096, consumers: 0 })).toThrow(/consumers/);
    expect(() => Ring.create({ capacity_bytes: 4096, consumers: 33 })).toThrow(/consumers/);
    expect(Ring.stats(Ring.create({ capacity_bytes: 4096 })).frame_bytes_max).toBe(2044);
  });

  it('refuses to attach to a buffer that is not a ring', () => {
    expect(() => Ring.attachProducer(new SharedArrayBuffer(8192))).toThrow(/not an initialised ring/);
  });

  it('allows one producer and one consumer per index at a time', () => {
    const sab = Ring.create({ capacity_bytes: 4096, consumers: 2 });
    const p = Ring.attachProducer(sab);
    expect(() => Ring.attachProducer(sab)).toThrow(/already attached/);
    Ring.attachConsumer(sab, 1);
    expect(() => Ring.attachConsumer(sab, 1)).toThrow(/already attached/);
    expect(() => Ring.attachConsumer(sab, 2)).toThrow(RangeError);
    expect(() => Ring.attachConsumer(sab, 1, { takeover: true })).not.toThrow();
    p.release();
    expect(() => Ring.attachProducer(sab)).not.toThrow();
  });

  it('a re-attached producer and consumer continue where the previous ones stopped', () => {
    const sab = Ring.create({ capacity_bytes: 4096 });
    const p1 = Ring.attachProducer(sab);
    p1.tryWrite(payload(1, 10));
    p1.release(); // release flushes
    const c1 = Ring.attachConsumer(sab, 0);
    expect(drain(c1)).toEqual([payload(1, 10)]);
    c1.release();
    const p2 = Ring.attachProducer(sab);
    p2.tryWrite(payload(2, 20));
    p2.flush();
    const c2 = Ring.attachConsumer(sab, 0);
    expect(drain(c2)).toEqual([payload(2, 20)]);
    expect(Ring.stats(sab).producer.frames).toBe(2);
  });
});

describe('writing and reading frames', () => {
  it('frames become visible only at flush, and arrive in order with their exact bytes', () => {
    const { producer, consumer } = ring({ capacity_bytes: 4096 });
    const sent = [payload(0, 0), payload(1, 1), payload(2, 7), payload(3, 100)];
    for (const f of sent) expect(producer.tryWrite(f)).toBe(true);
    expect(consumer.hasData()).toBe(false);
    expect(drain(consumer)).toEqual([]);
    producer.flush();
    expect(consumer.hasData()).toBe(true);
    expect(drain(consumer)).toEqual(sent);
    expect(consumer.hasData()).toBe(false);
  });

  it('poll with `until` takes only the frames published before that write cursor, across the wrap', () => {
    const { producer, consumer } = ring({ capacity_bytes: 4096 });
    for (let round = 0; round < 40; round++) {
      producer.tryWrite(payload(round, 200));
      producer.flush();
      const until = consumer.writeCursor();
      producer.tryWrite(payload(round + 100, 200)); // published after the cursor was read
      producer.flush();
      const got: number[] = [];
      expect(consumer.poll((b, s) => got.push(b[s]!), 10, until)).toBe(1);
      expect(got).toEqual([payload(round, 200)[0]]);
      expect(drain(consumer, 10)).toEqual([payload(round + 100, 200)]);
    }
  });

  it('poll delivers at most max_frames and returns the count', () => {
    const { producer, consumer } = ring({ capacity_bytes: 4096 });
    for (let i = 0; i < 5; i++) producer.tryWrite(payload(i, 3));
    producer.flush();
    expect(consumer.poll(() => {}, 2)).toBe(2);
    expect(drain(consumer, 10)).toEqual([payload(2, 3), payload(3, 3), payload(4, 3)]);
    expect(consumer.poll(() => {}, 10)).toBe(0);
  });

  it('rejects a frame larger than frame_bytes_max with a clear error, accepts exactly the max', () => {
    const { producer, consumer } = ring({ capacity_bytes: 4096, frame_bytes_max: 1000 });
    expect(() => producer.tryWrite(new Uint8Array(1001))).toThrow(/1001 bytes rejected: frame_bytes_max is 1000/);
    expect(() => producer.tryReserve(-1)).toThrow(RangeError);
    expect(producer.tryWrite(payload(9, 1000))).toBe(true);
    producer.flush();
    expect(drain(consumer)).toEqual([payload(9, 1000)]);
  });

  it('fills the ring exactly, rejects the next frame, and accepts it once space is released', () => {
    const { sab, producer, consumer } = ring({ capacity_bytes: 4096 });
    // 1020-byte payload + 4-byte length = 1024: four frames fill 4096 bytes exactly.
    for (let i = 0; i < 4; i++) expect(producer.tryWrite(payload(i, 1020))).toBe(true);
    expect(producer.tryWrite(new Uint8Array(0))).toBe(false);
    expect(producer.freeBytes()).toBe(-1);
    producer.flush();
    expect(Ring.stats(sab).used_bytes).toBe(4096);
    expect(Ring.stats(sab).producer.full_rejects).toBe(1);
    expect(drain(consumer, 1)).toEqual([payload(0, 1020)]);
    expect(producer.tryWrite(payload(4, 1020))).toBe(true);
    expect(producer.tryWrite(new Uint8Array(0))).toBe(false);
    producer.flush();
    expect(drain(consumer)).toEqual([1, 2, 3, 4].map((i) => payload(i, 1020)));
  });

  it('wraps around with odd sizes, always handing out contiguous frames', () => {
    const { producer, consumer } = ring({ capacity_bytes: 4096 });
    const received: Uint8Array[] = [];
    const sent: Uint8Array[] = [];
    let i = 0;
    // ~400 frames of odd sizes through a 4 KiB ring: dozens of wraps, many with a skipped tail.
    for (let round = 0; round < 100; round++) {
      for (let k = 0; k < 4; k++, i++) {
        const f = payload(i, (i * 37) % 1999 | 1);
        if (!producer.tryWrite(f)) break;
        sent.push(f);
      }
      producer.flush();
      consumer.poll((bytes, start, end) => {
        expect(end).toBeLessThanOrEqual(bytes.length);
        received.push(bytes.slice(start, end));
      });
    }
    expect(sent.length).toBeGreaterThan(200);
    expect(received).toEqual(sent);
  });

  it('a frame that does not fit before the end of the region skips the tail and starts at offset 0', () => {
    const { sab, producer, consumer } = ring({ capacity_bytes: 4096 });
    expect(producer.tryWrite(payload(0, 2004))).toBe(true); // [0, 2008)
    expect(producer.tryWrite(payload(1, 1500))).toBe(true); // [2008, 3512)
    producer.flush();
    expect(drain(consumer, 1)).toEqual([payload(0, 2004)]);
    // 584-byte tail is skipped; 584 + 2008 = 2592 = exactly the free space (frame 1 still held).
    expect(producer.freeBytes()).toBe(2004);
    expect(producer.tryWrite(payload(2, 2004))).toBe(true);
    expect(producer.tryWrite(new Uint8Array(0))).toBe(false);
    producer.flush();
    expect(Ring.stats(sab).used_bytes).toBe(4096);
    const starts: number[] = [];
    const got: Uint8Array[] = [];
    consumer.poll((bytes, start, end) => {
      starts.push(start);
      got.push(bytes.slice(start, end));
    });
    expect(got).toEqual([payload(1, 1500), payload(2, 2004)]);
    expect(starts).toEqual([2008 + 4, 0 + 4]);
    expect(Ring.stats(sab).used_bytes).toBe(0);
  });

  it('reserve + commit writes in place, and commit may shorten the frame', () => {
    const { producer, consumer } = ring({ capacity_bytes: 4096 });
    const off = producer.tryReserve(100);
    expect(off).toBeGreaterThanOrEqual(0);
    producer.data.set([1, 2, 3], off);
    expect(() => producer.tryReserve(1)).toThrow(/pending/);
    producer.commit(3);
    expect(() => producer.commit()).toThrow(/without a pending/);
    const off2 = producer.tryReserve(10);
    producer.data.fill(9, off2, off2 + 10);
    expect(() => producer.commit(11)).toThrow(RangeError);
    producer.commit();
    producer.tryReserve(50);
    producer.abort();
    producer.flush();
    expect(drain(consumer)).toEqual([Uint8Array.of(1, 2, 3), new Uint8Array(10).fill(9)]);
  });

  it('tryWrite2 writes head + a body range as one frame', () => {
    const { producer, consumer } = ring({ capacity_bytes: 4096 });
    const head = Uint8Array.of(0xaa, 0xbb);
    const big = payload(5, 500);
    expect(producer.tryWrite2(head, Uint8Array.of(1, 2, 3))).toBe(true);
    expect(producer.tryWrite2(head, big, 10, 20)).toBe(true);
    expect(producer.tryWrite2(head, big, 100, 400)).toBe(true);
    expect(() => producer.tryWrite2(head, big, 20, 10)).toThrow(RangeError);
    producer.flush();
    const cat = (a: Uint8Array, b: Uint8Array) => Uint8Array.from([...a, ...b]);
    expect(drain(consumer)).toEqual([cat(head, Uint8Array.of(1, 2, 3)), cat(head, big.slice(10, 20)), cat(head, big.slice(100, 400))]);
  });

  it('releases the frames handled before a throwing handler and redelivers the throwing one', () => {
    const { producer, consumer } = ring({ capacity_bytes: 4096 });
    for (let i = 0; i < 3; i++) producer.tryWrite(payload(i, 8));
    producer.flush();
    let seen = 0;
    expect(() =>
      consumer.poll(() => {
        if (++seen === 2) throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(drain(consumer)).toEqual([payload(1, 8), payload(2, 8)]);
  });

  it('refuses to re-enter poll from a handler', () => {
    const { producer, consumer } = ring({ capacity_bytes: 4096 });
    producer.tryWrite(payload(0, 8));
    producer.flush();
    expect(() => consumer.poll(() => consumer.poll(() => {}))).toThrow(/re-entered/);
  });

  it('throws RingCorruptError on a corrupt frame header', () => {
    const { producer, consumer } = ring({ capacity_bytes: 4096, frame_bytes_max: 1000 });
    producer.tryWrite(payload(0, 16));
    producer.flush();
    const words = new Int32Array(producer.data.buffer, producer.data.byteOffset, 4);
    words[0] = 1001; // beyond frame_bytes_max
    expect(() => drain(consumer)).toThrow(RingCorruptError);
    words[0] = 900; // sane length but past the written range
    expect(() => drain(consumer)).toThrow(/past the written range/);
    words[0] = 16;
    expect(drain(consumer)).toEqual([payload(0, 16)]);
  });

  it('frameBytes counts the length word and pads to 8', () => {
    expect([0, 1, 4, 5, 12, 13].map(frameBytes)).toEqual([8, 8, 8, 16, 16, 24]);
  });
});

describe('broadcast to several consumers (SPMC)', () => {
  it('every consumer sees every frame, and the slowest one bounds the producer', () => {
    const { sab, producer, consumers } = ring({ capacity_bytes: 4096, consumers: 2 });
    const [fast, slow] = consumers;
    const sent: Uint8Array[] = [];
    const fast_got: Uint8Array[] = [];
    for (let i = 0; producer.tryWrite(payload(i, 508)); i++) {
      sent.push(payload(i, 508));
      producer.flush();
      fast_got.push(...drain(fast));
    }
    expect(sent.length).toBe(4096 / 512);
    expect(fast_got).toEqual(sent);
    const stats = Ring.stats(sab);
    expect(stats.used_bytes).toBe(4096);
    expect(stats.consumers.map((c) => c.lag_bytes)).toEqual([0, 4096]);
    expect(drain(slow, 1)).toEqual([sent[0]]);
    expect(producer.tryWrite(payload(99, 508))).toBe(true);
    expect(producer.tryWrite(payload(100, 508))).toBe(false);
    producer.flush();
    expect(drain(slow)).toEqual([...sent.slice(1), payload(99, 508)]);
    expect(drain(fast)).toEqual([payload(99, 508)]);
  });
});

describe('waiting and waking', () => {
  it('waitForData times out on an empty ring and returns at once when data is there', () => {
    const { producer, consumer } = ring({ capacity_bytes: 4096 });
    expect(consumer.waitForData(5)).toBe(false);
    producer.tryWrite(payload(0, 4));
    producer.flush();
    expect(consumer.waitForData(60_000)).toBe(true);
  });

  it('waitForDataAsync is woken by a later flush; only a sleeping consumer costs a notify', async () => {
    const { sab, producer, consumer } = ring({ capacity_bytes: 4096 });
    producer.tryWrite(payload(0, 4));
    producer.flush(); // nobody asleep: no notify
    expect(Ring.stats(sab).producer.notifies).toBe(0);
    drain(consumer);
    const woke = consumer.waitForDataAsync(60_000);
    expect(Ring.stats(sab).sleepers).toBe(1);
    setTimeout(() => {
      producer.tryWrite(payload(1, 4));
      producer.flush();
    }, 1);
    expect(await woke).toBe(true);
    expect(drain(consumer)).toEqual([payload(1, 4)]);
    const stats = Ring.stats(sab);
    expect(stats.producer.notifies).toBe(1);
    expect(stats.sleepers).toBe(0);
    expect(stats.consumers[0].data_waits).toBe(1);
    for (let i = 0; i < 10; i++) {
      producer.tryWrite(payload(i, 4));
      producer.flush(); // the consumer is awake again: no more notifies
    }
    expect(Ring.stats(sab).producer.notifies).toBe(1);
  });

  it('close wakes a sleeping consumer, which drains the rest and then sees isFinished', async () => {
    const { producer, consumer } = ring({ capacity_bytes: 4096 });
    const woke = consumer.waitForDataAsync(60_000);
    setTimeout(() => producer.close(), 1);
    expect(await woke).toBe(false);
    expect(consumer.isFinished()).toBe(true);
    expect(() => producer.tryWrite(payload(0, 1))).toThrow(/after close/);

    const other = ring({ capacity_bytes: 4096 });
    other.producer.tryWrite(payload(7, 7));
    other.producer.close(); // close flushes
    expect(other.consumer.isClosed()).toBe(true);
    expect(other.consumer.isFinished()).toBe(false);
    expect(other.consumer.waitForData(60_000)).toBe(true);
    expect(drain(other.consumer)).toEqual([payload(7, 7)]);
    expect(other.consumer.isFinished()).toBe(true);
    expect(other.consumer.waitForData(60_000)).toBe(false);
  });

  it('waitForSpaceAsync resolves once a consumer releases enough space', async () => {
    const { sab, producer, consumer } = ring({ capacity_bytes: 4096 });
    while (producer.tryWrite(payload(0, 1020)));
    const space = producer.waitForSpaceAsync(1000, 60_000); // flushes first
    expect(consumer.hasData()).toBe(true);
    setTimeout(() => drain(consumer, 1), 1);
    expect(await space).toBe(true);
    expect(producer.tryWrite(payload(1, 1000))).toBe(true);
    expect(Ring.stats(sab).producer.space_waits).toBeGreaterThanOrEqual(1);
  });

  it('waitForSpace times out while the consumer holds the ring full', () => {
    const { producer } = ring({ capacity_bytes: 4096 });
    while (producer.tryWrite(payload(0, 1020)));
    expect(producer.waitForSpace(1000, 5)).toBe(false);
    expect(producer.waitForSpace(0, 0)).toBe(false);
  });

  it('rejects a negative timeout', () => {
    const { producer, consumer } = ring({ capacity_bytes: 4096 });
    expect(() => consumer.waitForData(-1)).toThrow(RangeError);
    expect(() => producer.waitForSpace(1, Number.NaN)).toThrow(RangeError);
  });
});

describe('stats', () => {
  it('reports frames, bytes, batches and occupancy from the SAB alone', () => {
    const { sab, producer, consumer } = ring({ capacity_bytes: 4096 });
    for (let i = 0; i < 10; i++) producer.tryWrite(payload(i, 12)); // 16 bytes per frame
    expect(Ring.stats(sab).producer.frames).toBe(0); // counted when published
    producer.flush();
    consumer.poll(() => {}, 4);
    const s = Ring.stats(sab);
    expect(s.producer).toMatchObject({ frames: 10, bytes: 120, attached: true });
    expect(s.consumers[0]).toMatchObject({ frames: 4, bytes: 48, batches: 1, lag_bytes: 96, attached: true });
    expect(s.used_bytes).toBe(96);
    expect(s.write_cursor).toBe(160);
  });
});
