// A FIFO queue with O(1) push and shift (a ring of slots that doubles when full). The pending
// requests of a connection live in one: replies are matched to its head, strictly in order.

export class Fifo<T> {
  private slots: (T | undefined)[] = new Array(16);
  /** Index of the head; invariant: 0 <= head < slots.length. */
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.slots.length) this.grow();
    this.slots[(this.head + this.count) % this.slots.length] = item;
    this.count++;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.slots[this.head];
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.slots[this.head];
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.slots.length;
    this.count--;
    return item;
  }

  /** Removes and returns every item, head first. */
  drain(): T[] {
    const out: T[] = [];
    while (this.count > 0) out.push(this.shift() as T);
    return out;
  }

  /** Removes the first item matching `pred`; O(n). */
  removeFirst(pred: (item: T) => boolean): T | undefined {
    const items = this.drain();
    const i = items.findIndex(pred);
    const [removed] = i < 0 ? [undefined] : items.splice(i, 1);
    for (const item of items) this.push(item);
    return removed;
  }

  find(pred: (item: T) => boolean): T | undefined {
    for (let i = 0; i < this.count; i++) {
      const item = this.slots[(this.head + i) % this.slots.length] as T;
      if (pred(item)) return item;
    }
    return undefined;
  }

  private grow(): void {
    const next: (T | undefined)[] = new Array(this.slots.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = this.slots[(this.head + i) % this.slots.length];
    this.slots = next;
    this.head = 0;
  }
}
