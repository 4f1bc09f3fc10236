/**
 * The discrete-event loop: virtual time, one process, no wall clock.
 *
 * Rules: time only moves when an event is popped; handlers run to
 * completion and may schedule events at or after the current time. Event
 * kinds are small integers registered once with a handler (no closure per
 * event); the node layer keeps any per-event object in a side table and
 * passes its index as `arg`.
 */
import { EventQueue, EventTimeError } from './event-queue.js'
import type { NodeTimers } from './node-timers.js'

/** Fires one node's timer (NodeTimers attached with `attachTimers`). */
export type TimerHandler = (node: number, nowMs: number) => void

/** Handles one event of a registered kind. */
export type EventHandler = (node: number, arg: number, nowMs: number) => void

/** Called every `progressEveryEvents` events and once at the end. */
export type ProgressCallback = (nowMs: number, eventsProcessed: number) => void

/** Options for Simulator.run. */
export interface RunInit {
  /** Events between progress callbacks; default 65536. */
  progressEveryEvents?: number
  /** Progress callback. */
  onProgress?: ProgressCallback
  /** Stops the run between events when aborted. */
  signal?: AbortSignal
}

/** Most event kinds one simulator can register (kind is stored in a byte). */
export const MAX_EVENT_KINDS = 256

/** Owns the clock, the event queue and the kind → handler table. */
export class Simulator {
  /** Current virtual time in milliseconds. */
  nowMs = 0
  /** Events handled so far. */
  eventsProcessed = 0
  readonly queue: EventQueue
  private readonly handlers: EventHandler[] = []
  private readonly kindNames: string[] = []

  private timers: NodeTimers | undefined
  private onTimer: TimerHandler = () => {}

  constructor (initialQueueCapacity?: number) {
    this.queue = new EventQueue(initialQueueCapacity)
  }

  /**
   * Drives `timers` with the queue: the earliest of both runs next, queued
   * events first at equal times. A fired timer counts as one event.
   */
  attachTimers (timers: NodeTimers, onTimer: TimerHandler): void {
    this.timers = timers
    this.onTimer = onTimer
  }

  /** Registers a handler and returns the kind number to schedule it with. */
  registerKind (name: string, handler: EventHandler): number {
    if (this.handlers.length >= MAX_EVENT_KINDS) throw new RangeError(`more than ${MAX_EVENT_KINDS} event kinds`)
    this.handlers.push(handler)
    this.kindNames.push(name)
    return this.handlers.length - 1
  }

  /** Name a kind was registered under. */
  kindName (kind: number): string { return this.kindNames[kind] }

  /** Schedules an event at absolute virtual time `atMs` (>= now). */
  schedule (atMs: number, kind: number, node: number, arg: number): void {
    if (!(atMs >= this.nowMs) || !Number.isFinite(atMs)) {
      throw new EventTimeError(`event ${this.kindNames[kind] ?? kind} at ${atMs} ms is before now (${this.nowMs} ms) or not finite`)
    }
    this.queue.push(atMs, kind, node, arg)
  }

  /** Schedules an event `delayMs` after now. */
  after (delayMs: number, kind: number, node: number, arg: number): void {
    this.schedule(this.nowMs + delayMs, kind, node, arg)
  }

  /** Runs events with time <= untilMs, then sets the clock to untilMs. Returns events handled. */
  run (untilMs: number, init: RunInit = {}): number {
    const every = init.progressEveryEvents ?? 65536
    const q = this.queue
    const handlers = this.handlers
    let n = 0
    let nextProgress = every
    const timers = this.timers
    for (;;) {
      const tq = q.peekTimeMs()
      const tt = timers === undefined ? Infinity : timers.peekTimeMs()
      if (tq <= tt) {
        if (!(tq <= untilMs) || q.size === 0) break
        q.pop()
        this.nowMs = q.topTimeMs
        handlers[q.topKind](q.topNode, q.topArg, q.topTimeMs)
      } else {
        if (!(tt <= untilMs)) break
        this.nowMs = tt
        this.onTimer((timers as NodeTimers).popMin(), tt)
      }
      n++
      if (n >= nextProgress) {
        nextProgress += every
        init.onProgress?.(this.nowMs, this.eventsProcessed + n)
        if (init.signal?.aborted === true) break
      }
    }
    this.eventsProcessed += n
    if (init.signal?.aborted !== true && this.nowMs < untilMs) this.nowMs = untilMs
    init.onProgress?.(this.nowMs, this.eventsProcessed)
    return n
  }
}
