// One producer and one consumer per index: attaching claims a header word by CAS so a second
// attach by mistake (two threads writing one ring) fails loudly instead of corrupting frames.

export interface AttachOptions {
  /**
   * Take the slot over even if it is claimed. For a supervisor restarting a worker that died
   * without release(): the old thread must really be gone. Default false.
   */
  takeover?: boolean;
}

export function claimSlot(header: Int32Array, index: number, what: string, options: AttachOptions | undefined): void {
  if (options?.takeover === true) {
    Atomics.store(header, index, 1);
    return;
  }
  if (Atomics.compareExchange(header, index, 0, 1) !== 0) {
    throw new Error(`ring: ${what} is already attached (release() it first, or attach with { takeover: true })`);
  }
}

export function releaseSlot(header: Int32Array, index: number): void {
  Atomics.store(header, index, 0);
}
