/**
 * A map from a string to a few objects, built for memory: a DHT member of
 * a simulated day keeps one such entry per key and one per provider it
 * holds records of, and most keys and providers have one record there.
 *
 * - One value is stored as itself, not in an array (saves the 56 bytes of
 *   a one-element array and its backing store).
 * - Two or more are in an array of exactly their length: arrays are
 *   replaced (concat, toSpliced), never grown by push, which keeps room for
 *   16 more (128 bytes unused per entry).
 * - Values keep the order they were added in.
 *
 * Values are objects and never arrays, so the two forms cannot be mixed up.
 * Adding is O(values of the key), removing O(values of the key); meant for
 * a few values per key (the store bounds them by its per-provider quota).
 */
export class CompactMultimap<V extends object> {
  private readonly entries = new Map<string, V | readonly V[]>()

  /** Keys with at least one value. */
  get size (): number { return this.entries.size }

  /** How many values `key` has. */
  count (key: string): number {
    const e = this.entries.get(key)
    return e === undefined ? 0 : Array.isArray(e) ? e.length : 1
  }

  /** The values of `key`, oldest first. Arrays are never changed in place, so the caller may add and remove while it walks them. */
  values (key: string): readonly V[] {
    const e = this.entries.get(key)
    return e === undefined ? NONE : Array.isArray(e) ? e : [e as V]
  }

  /** `key`'s value when it has exactly one (most keys), else undefined; allocates nothing, unlike `values`. */
  one (key: string): V | undefined {
    const e = this.entries.get(key)
    return e === undefined || Array.isArray(e) ? undefined : e as V
  }

  /** `key`'s oldest value, without allocating. */
  first (key: string): V | undefined {
    const e = this.entries.get(key)
    return e === undefined ? undefined : Array.isArray(e) ? (e as readonly V[])[0] : e as V
  }

  /** The keys with values, in the order they got their first; removing values while walking them is safe (a Map's iteration). */
  keys (): IterableIterator<string> { return this.entries.keys() }

  /** Adds `value` under `key` (after its other values). */
  add (key: string, value: V): void {
    const e = this.entries.get(key)
    this.entries.set(key, e === undefined ? value : Array.isArray(e) ? e.concat(value) : [e as V, value])
  }

  /** Removes `value` from `key`'s values (compared by identity); false when it was not there. */
  remove (key: string, value: V): boolean {
    const e = this.entries.get(key)
    if (e === undefined) return false
    if (!Array.isArray(e)) {
      if (e !== value) return false
      this.entries.delete(key)
      return true
    }
    const list = e as readonly V[]
    const i = list.indexOf(value)
    if (i < 0) return false
    this.entries.set(key, list.length === 2 ? list[1 - i] : list.toSpliced(i, 1))
    return true
  }
}

const NONE: readonly never[] = Object.freeze([])
