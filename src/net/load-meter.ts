/**
 * Measures a process's load for the overlay peer once a second: the event
 * loop's lag (its p99 over the last interval) and the share of upload slots
 * in use. The peer decides what the numbers mean (OverlayPeer.reportLoad).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'

export interface ProcessLoad { uploadUtilization: number, eventLoopLagMs: number }

/** Reports the process's load every `intervalMs` while started. */
export class LoadMeter {
  private readonly lag = monitorEventLoopDelay({ resolution: 20 })
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly report: (load: ProcessLoad) => void, private readonly uploadUtilization: () => number, private readonly intervalMs: number) {}

  start (): void {
    if (this.timer != null) return
    this.lag.enable()
    this.timer = setInterval(() => {
      const eventLoopLagMs = this.lag.percentile(99) / 1e6
      this.lag.reset()
      this.report({ uploadUtilization: this.uploadUtilization(), eventLoopLagMs })
    }, this.intervalMs)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer != null) clearInterval(this.timer)
    this.timer = undefined
    this.lag.disable()
  }
}
