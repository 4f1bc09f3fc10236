/**
 * Timeouts that let the answers already waiting in the sockets be read
 * first. Node runs expired timers before it polls for I/O, so after the
 * event loop stalled (a loaded machine, a long GC, a busy desktop) every
 * request deadline that passed meanwhile fires before the responses that
 * arrived in time are read: a peer then drops supernodes that did answer.
 * These fire one turn later, from `setImmediate`, which runs after the
 * poll phase: what arrived before the deadline was noticed wins.
 */

/** Like setTimeout(fn, ms), but `fn` runs after the I/O ready when the timer expired has been read. Unref'd. */
export function setTimeoutAfterIo (fn: () => void, ms: number): { clear: () => void } {
  let immediate: NodeJS.Immediate | undefined
  const timer = setTimeout(() => { immediate = setImmediate(fn) }, ms)
  timer.unref()
  return {
    clear: () => {
      clearTimeout(timer)
      if (immediate != null) clearImmediate(immediate)
    }
  }
}

/** An AbortSignal that aborts with a TimeoutError `ms` after creation, after pending I/O (see the module comment). Call clear() when done so the timer does not outlive the work. */
export class DeadlineAfterIo {
  private readonly controller = new AbortController()
  private readonly timer: { clear: () => void }

  constructor (ms: number) {
    this.timer = setTimeoutAfterIo(() => { this.controller.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')) }, ms)
  }

  get signal (): AbortSignal { return this.controller.signal }

  clear (): void { this.timer.clear() }
}
