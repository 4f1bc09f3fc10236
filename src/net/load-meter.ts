/**
 * Measures a process's load for the overlay peer once a second: the event
 * loop's lag (its p99 over the last interval), the share of upload slots
 * in use, and the upload gate's byte counter (for the spare upload,
 * core/tier/spare-upload.ts). The peer decides what the numbers mean
 * (OverlayPeer.reportLoad, the supernode policy).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'

/** One interval's measurements. */
export interface ProcessLoad {
  uploadUtilization: number
  eventLoopLagMs: number
  /** Piece bytes the upload gate let through since start. */
  uploadedBytesTotal: number
}

/** Reports the process's load every `intervalMs` while started. */
export class LoadMeter {
  private readonly lag = monitorEventLoopDelay({ resolution: 20 })
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly report: (load: ProcessLoad) => void, private readonly uploadUtilization: () => number, private readonly intervalMs: number, private readonly uploadedBytes: () => number = () => 0) {}

  start (): void {
    if (this.timer != null) return
    this.lag.enable()
    this.timer = setInterval(() => {
      const eventLoopLagMs = this.lag.percentile(99) / 1e6
      this.lag.reset()
      this.report({ uploadUtilization: this.uploadUtilization(), eventLoopLagMs, uploadedBytesTotal: this.uploadedBytes() })
    }, this.intervalMs)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer != null) clearInterval(this.timer)
    this.timer = undefined
    this.lag.disable()
  }
}
