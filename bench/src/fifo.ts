// A FIFO queue over a growable circular array: O(1) push/shift without Array.shift's copying.
// Holds a session's requests in flight (replies arrive in request order) and open-loop backlogs.

export class Fifo<T> {
  private items: (T | undefined)[];
  private head = 0;
  /** Number of items queued. Invariant: 0 <= size <= items.length. */
  size = 0;

  constructor(initial_capacity = 16) {
    this.items = new Array(Math.max(1, initial_capacity));
  }

  push(item: T): void {
    if (this.size === this.items.length) this.grow();
    this.items[(this.head + this.size) % this.items.length] = item;
    this.size++;
  }

  /** The oldest item, or undefined when empty. */
  peek(): T | undefined {
    return this.size === 0 ? undefined : this.items[this.head];
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.size--;
    return item;
  }

  private grow(): void {
    const next: (T | undefined)[] = new Array(this.items.length * 2);
    for (let i = 0; i < this.size; i++) next[i] = this.items[(this.head + i) % this.items.length];
    this.items = next;
    this.head = 0;
  }
}
