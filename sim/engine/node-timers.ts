/**
 * One re-settable timer per node: an indexed binary min-heap over typed
 * arrays, driven by the Simulator next to its event queue.
 *
 * Why not events: a node's earliest deadline moves LATER all the time (a
 * reply arrives, so its request timeout no longer matters). With events,
 * the old fire stays in the queue (no removal) and pops for nothing; at
 * 10^4 peers that was about a third of all timer events. Here `set` moves
 * the node's one entry up or down, so a timer fires only at a deadline
 * that is still current.
 *
 * Rules: fires pop in (timeMs, node) order, so a run stays reproducible
 * bit for bit; at equal times the Simulator pops queued events first.
 */

/** Per-node timers; `set(node, Infinity)` (or `clear`) disarms. */
export class NodeTimers {
  /** heap[i] = node at heap position i */
  private readonly heap: Int32Array
  /** pos[node] = heap position, or -1 when disarmed */
  private readonly pos: Int32Array
  private readonly atMs: Float64Array
  private count = 0

  constructor (nodeCount: number) {
    this.heap = new Int32Array(nodeCount)
    this.pos = new Int32Array(nodeCount).fill(-1)
    this.atMs = new Float64Array(nodeCount).fill(Infinity)
  }

  /** Armed timers. */
  get size (): number { return this.count }

  /** Time of the earliest armed timer, Infinity when none. */
  peekTimeMs (): number { return this.count === 0 ? Infinity : this.atMs[this.heap[0]] }

  /** Arms (or moves) the node's timer to `atMs`; Infinity disarms it. */
  set (node: number, atMs: number): void {
    if (atMs === Infinity) { this.clear(node); return }
    const i = this.pos[node]
    const before = this.atMs[node]
    // The host re-arms after every input, and most inputs leave the deadline where it was.
    if (i >= 0 && before === atMs) return
    this.atMs[node] = atMs
    if (i < 0) {
      const at = this.count++
      this.heap[at] = node
      this.pos[node] = at
      this.up(at)
    } else if (this.less(node, before, node)) {
      this.down(i)
    } else {
      this.up(i)
    }
  }

  /** Disarms the node's timer. */
  clear (node: number): void {
    const i = this.pos[node]
    if (i < 0) return
    this.pos[node] = -1
    this.atMs[node] = Infinity
    const last = this.heap[--this.count]
    if (i === this.count) return
    this.heap[i] = last
    this.pos[last] = i
    this.down(i)
    this.up(this.pos[last])
  }

  /** Removes the earliest timer and returns its node (call only when size > 0). */
  popMin (): number {
    const node = this.heap[0]
    this.clear(node)
    return node
  }

  /** True when `a` (at time ta) orders before `b` at its current time. */
  private less (a: number, ta: number, b: number): boolean {
    const tb = this.atMs[b]
    return ta < tb || (ta === tb && a < b)
  }

  private up (i: number): void {
    const h = this.heap
    const node = h[i]
    const t = this.atMs[node]
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = h[parent]
      if (!this.less(node, t, p)) break
      h[i] = p
      this.pos[p] = i
      i = parent
    }
    h[i] = node
    this.pos[node] = i
  }

  private down (i: number): void {
    const h = this.heap
    const n = this.count
    const node = h[i]
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      let c = l
      if (r < n && this.less(h[r], this.atMs[h[r]], h[l])) c = r
      if (!this.less(h[c], this.atMs[h[c]], node)) break
      h[i] = h[c]
      this.pos[h[i]] = i
      i = c
    }
    h[i] = node
    this.pos[node] = i
  }
}
