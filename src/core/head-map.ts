/**
 * A Map that remembers its first value between changes at its front.
 *
 * Why: V8's maps keep the slots of deleted entries until they rehash, and
 * finding the first live entry walks past every deleted one. A
 * supernode's maps of leaves (kept in last-seen order by delete + set),
 * queries and forwards churn all the time, and their first entries (the
 * earliest deadlines) are read after every input (nextDeadlineMs): that
 * walk was about 3% of a 10^5-peer simulated day.
 *
 * Rules: `first()` is the value iteration would give first. It is found
 * again only after the first entry is deleted or replaced, or a value is
 * added to an empty map; adding after it or deleting another entry keeps
 * it.
 */
export class HeadMap<K, V> extends Map<K, V> {
  private head: V | undefined = undefined
  private headKnown = false

  /** The first value in iteration order, or undefined when empty. */
  first (): V | undefined {
    if (!this.headKnown) {
      this.head = undefined
      for (const v of super.values()) { this.head = v; break }
      this.headKnown = true
    }
    return this.head
  }

  override set (key: K, value: V): this {
    // Class fields are not set yet while Map's constructor adds initial entries: then nothing is known anyway.
    if (this.headKnown === true && (this.size === 0 || super.get(key) === this.head)) this.headKnown = false
    return super.set(key, value)
  }

  override delete (key: K): boolean {
    if (this.headKnown && super.get(key) === this.head) this.headKnown = false
    return super.delete(key)
  }

  override clear (): void {
    this.headKnown = false
    super.clear()
  }
}
