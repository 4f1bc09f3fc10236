/**
 * A Map of entries that each carry a deadline, which knows its earliest one.
 *
 * Why: a peer asks for its earliest deadline after every input
 * (nextDeadlineMs). Scanning the map each time cost a few percent of a
 * 10^6-peer simulated day: V8 walks past every deleted slot of a churning
 * map too. Entries come and go mostly in deadline order, so the earliest
 * is found again only when it leaves.
 *
 * Rules: `earliestMs()` is the smallest `deadlineMs` of the entries, or
 * undefined when empty. Adding an entry keeps it known; deleting or
 * replacing an entry whose deadline is the earliest forgets it, and the
 * next call scans. Entries' `deadlineMs` must not change while stored
 * (replace the entry instead).
 */
export class DeadlineMap<K, V extends { readonly deadlineMs: number }> extends Map<K, V> {
  private earliest: number | undefined = undefined
  private earliestKnown = true

  /** An empty map (initial entries would be added before the fields above exist). */
  constructor () { super() }

  /** The smallest deadline of the entries, or undefined when empty. */
  earliestMs (): number | undefined {
    if (!this.earliestKnown) {
      let m: number | undefined
      for (const v of super.values()) if (m === undefined || v.deadlineMs < m) m = v.deadlineMs
      this.earliest = m
      this.earliestKnown = true
    }
    return this.earliest
  }

  override set (key: K, value: V): this {
    if (this.earliestKnown) {
      const old = super.get(key)
      if (old !== undefined && old.deadlineMs === this.earliest) this.earliestKnown = false
      else if (this.earliest === undefined || value.deadlineMs < this.earliest) this.earliest = value.deadlineMs
    }
    return super.set(key, value)
  }

  override delete (key: K): boolean {
    const old = super.get(key)
    if (old === undefined) return false
    if (this.earliestKnown && old.deadlineMs === this.earliest) this.earliestKnown = false
    return super.delete(key)
  }

  override clear (): void {
    this.earliest = undefined
    this.earliestKnown = true
    super.clear()
  }
}
