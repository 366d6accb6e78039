/**
 * A count per key, moved as things come and go, so that "how many of X" costs one lookup rather
 * than a scan of everything live; a key whose count falls to 0 is dropped.
 */
export class Counts<K> {
  private readonly counts = new Map<K, number>();

  get(key: K): number {
    return this.counts.get(key) ?? 0;
  }

  add(key: K): void {
    this.counts.set(key, this.get(key) + 1);
  }

  remove(key: K): void {
    const left = this.get(key) - 1;
    if (left > 0) this.counts.set(key, left);
    else this.counts.delete(key);
  }

  /** The keys with a count above 0, and their counts. */
  entries(): IterableIterator<[K, number]> {
    return this.counts.entries();
  }

  /** A copy, as a plain map. */
  toMap(): Map<K, number> {
    return new Map(this.counts);
  }
}
