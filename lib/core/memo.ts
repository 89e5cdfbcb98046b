/**
 * The one in-process cache of the library: values computed from a key (a digest of a text, a
 * parsed expression's verdict, a file read once), kept for the life of the process and bounded
 * by one rule, the same everywhere: at `limit` entries the oldest half is dropped. Nothing is ever
 * written to disk.
 */
export class Memo<K, V> {
  private readonly entries = new Map<K, V>();

  /** @param limit most entries kept */
  constructor(private readonly limit = 1024) {}

  /** The value of `key`, computed by `compute` the first time. */
  get(key: K, compute: () => V): V {
    if (this.entries.has(key)) return this.entries.get(key)!;
    const value = compute();
    if (this.entries.size >= this.limit) {
      // Maps iterate in insertion order: the first half is the oldest.
      let drop = Math.floor(this.limit / 2);
      for (const old of this.entries.keys()) {
        if (drop-- <= 0) break;
        this.entries.delete(old);
      }
    }
    this.entries.set(key, value);
    return value;
  }

  /** The value of `key` if it is kept. */
  peek(key: K): V | undefined {
    return this.entries.get(key);
  }

  /** Keeps `value` for `key`, replacing what was kept. */
  set(key: K, value: V): void {
    this.entries.delete(key);
    this.get(key, () => value);
  }

  /** Forgets everything (as a new process would). */
  clear(): void {
    this.entries.clear();
  }
}
