/**
 * The simulator's pending-event set: a binary min-heap over parallel typed
 * arrays, so an event costs 25 bytes and no object.
 *
 * Rules: events pop in (timeMs, seq) order; seq is the insertion counter,
 * so two events at the same virtual time pop in the order they were
 * scheduled. That tie-break is what makes a run reproducible bit for bit.
 * An event is four numbers: time, kind (a small integer naming a handler),
 * node (a node index or -1) and arg (an integer the handler interprets,
 * often an index into a side table). Cancellation is lazy: handlers check a
 * generation number instead of the heap removing entries.
 */

/** Capacity the heap starts with; it doubles when full. */
export const INITIAL_QUEUE_CAPACITY = 1024

/** Thrown when an event is scheduled in the past or with a non-finite time. */
export class EventTimeError extends Error {
  override name = 'EventTimeError'
  readonly code = 'ERR_EVENT_TIME'
}

/** A binary min-heap of (timeMs, seq, kind, node, arg) tuples in typed arrays. */
export class EventQueue {
  private timeMs: Float64Array
  private seq: Float64Array
  private kind: Uint8Array
  private node: Int32Array
  private arg: Int32Array
  private count = 0
  private nextSeq = 0

  /** Time of the event last returned by pop(). */
  topTimeMs = 0
  /** Kind of the event last returned by pop(). */
  topKind = 0
  /** Node of the event last returned by pop(). */
  topNode = 0
  /** Arg of the event last returned by pop(). */
  topArg = 0

  constructor (initialCapacity = INITIAL_QUEUE_CAPACITY) {
    const c = Math.max(16, initialCapacity)
    this.timeMs = new Float64Array(c)
    this.seq = new Float64Array(c)
    this.kind = new Uint8Array(c)
    this.node = new Int32Array(c)
    this.arg = new Int32Array(c)
  }

  /** Number of pending events. */
  get size (): number { return this.count }

  /** Bytes held by the heap arrays (for the memory benchmark). */
  get capacityBytes (): number { return this.timeMs.length * 25 }

  /** Adds an event; kind must fit in a byte, node and arg in an int32. */
  push (timeMs: number, kind: number, node: number, arg: number): void {
    if (this.count === this.timeMs.length) this.grow()
    const s = this.nextSeq++
    // sift up with a hole instead of swaps
    let i = this.count++
    const t = this.timeMs; const q = this.seq
    while (i > 0) {
      const p = (i - 1) >> 1
      const tp = t[p]
      if (tp < timeMs || (tp === timeMs && q[p] < s)) break
      this.move(p, i)
      i = p
    }
    t[i] = timeMs; q[i] = s; this.kind[i] = kind; this.node[i] = node; this.arg[i] = arg
  }

  /** Time of the earliest event, or Infinity when empty. */
  peekTimeMs (): number { return this.count === 0 ? Infinity : this.timeMs[0] }

  /** Removes the earliest event into top*; returns false when empty. */
  pop (): boolean {
    if (this.count === 0) return false
    this.topTimeMs = this.timeMs[0]; this.topKind = this.kind[0]
    this.topNode = this.node[0]; this.topArg = this.arg[0]
    const last = --this.count
    if (last === 0) return true
    const t = this.timeMs; const q = this.seq
    const lt = t[last]; const ls = q[last]; const lk = this.kind[last]; const ln = this.node[last]; const la = this.arg[last]
    let i = 0
    const half = last >> 1
    while (i < half) {
      let c = 2 * i + 1
      const r = c + 1
      if (r < last && (t[r] < t[c] || (t[r] === t[c] && q[r] < q[c]))) c = r
      if (lt < t[c] || (lt === t[c] && ls < q[c])) break
      this.move(c, i)
      i = c
    }
    t[i] = lt; q[i] = ls; this.kind[i] = lk; this.node[i] = ln; this.arg[i] = la
    return true
  }

  private move (from: number, to: number): void {
    this.timeMs[to] = this.timeMs[from]; this.seq[to] = this.seq[from]
    this.kind[to] = this.kind[from]; this.node[to] = this.node[from]; this.arg[to] = this.arg[from]
  }

  private grow (): void {
    const c = this.timeMs.length * 2
    const t = new Float64Array(c); t.set(this.timeMs); this.timeMs = t
    const q = new Float64Array(c); q.set(this.seq); this.seq = q
    const k = new Uint8Array(c); k.set(this.kind); this.kind = k
    const n = new Int32Array(c); n.set(this.node); this.node = n
    const a = new Int32Array(c); a.set(this.arg); this.arg = a
  }
}
