// Reservoir sampling (Vitter's algorithm R): a uniform sample of at most `capacity` items from a
// stream of unknown length, in bounded memory.
export class Reservoir<T> {
  readonly items: T[] = [];
  seen = 0;

  constructor(
    readonly capacity: number,
    private readonly random: () => number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`reservoir capacity must be a positive integer, got ${capacity}`);
  }

  /** Offers one item; `make` is called only when the item is kept, so rejected items cost nothing. */
  offer(make: () => T): void {
    this.seen++;
    if (this.items.length < this.capacity) {
      this.items.push(make());
      return;
    }
    const slot = Math.floor(this.random() * this.seen);
    if (slot < this.capacity) this.items[slot] = make();
  }
}
