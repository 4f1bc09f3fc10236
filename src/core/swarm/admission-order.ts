/**
 * Entries kept in admission order (`seq`, increasing) as they come, for a
 * walk in that order without gathering and sorting them each time: an
 * origin's upload decision walks its busy items' requesters on every
 * admission and release (UploadPolicy).
 *
 * - An entry enters once: last when it is the newest (the usual case),
 *   else at its place by binary search (an item that just became busy
 *   brings its earlier requesters).
 * - An entry that stops counting (its requester left, its item is no
 *   longer busy) stays in place, stale: the owner skips it in walks and
 *   says so with `staled`; it can count again (`enter` revives it).
 * - Stale entries are dropped once they are more than 64 and outnumber
 *   the live ones (`compact`), so a walk costs at most about twice the
 *   live entries.
 */

/** What an entry carries: its admission order and whether it has a place here. */
export interface Admission {
  readonly seq: number
  /** Has a place in the order (live or stale); set and cleared by AdmissionOrder only. */
  inOrder: boolean
}

/** Stale entries kept at most before `compact` drops them, unless the live ones outnumber them. */
const STALE_ALLOWED = 64

/** Entries in admission order (see the file's rules). */
export class AdmissionOrder<T extends Admission> {
  private entries: T[] = []
  private stale = 0

  /** Every entry, live and stale, in admission order. */
  get all (): readonly T[] { return this.entries }

  /** Gives `x` its place, or makes its stale entry live again. */
  enter (x: T): void {
    if (x.inOrder) { this.stale--; return }
    x.inOrder = true
    const order = this.entries
    if (order.length === 0 || order[order.length - 1].seq < x.seq) { order.push(x); return }
    let lo = 0
    let hi = order.length
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (order[mid].seq < x.seq) lo = mid + 1; else hi = mid }
    order.splice(lo, 0, x)
  }

  /** A live entry stopped counting (the owner skips it from now on). */
  staled (x: T): void { if (x.inOrder) this.stale++ }

  /** Drops the stale entries (those `isLive` rejects) once they are many. */
  compact (isLive: (x: T) => boolean): void {
    if (this.stale <= STALE_ALLOWED || this.stale * 2 <= this.entries.length) return
    const live: T[] = []
    for (const x of this.entries) {
      if (isLive(x)) live.push(x)
      else x.inOrder = false
    }
    this.entries = live
    this.stale = 0
  }
}
