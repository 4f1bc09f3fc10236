/**
 * The resident memory of another process (a `swarmcdn seed` under attack),
 * read from /proc/PID/status (Linux), and a sampler that keeps its peak:
 * the adversarial tests and bench/under-attack.ts state a bound on the
 * growth from a warmed-up baseline to the peak during an attack.
 */
import { readFileSync } from 'node:fs'

/** Resident set size of process `pid`, MiB (VmRSS). Throws if the process is gone. */
export function rssMiB (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (m == null) throw new Error(`no VmRSS for process ${pid}`)
  return Number(m[1]) / 1024
}

/** What a sampler saw, MiB. */
export interface RssSample {
  /** RSS when sampling started. */
  baselineMiB: number
  /** Highest RSS seen since. */
  peakMiB: number
  /** peakMiB - baselineMiB. */
  growthMiB: number
}

/** A running sampler (see sampleRss). */
export interface RssSampler {
  /** What it saw so far, with one more sample taken now. */
  read: () => RssSample
  /** Stops sampling; resolves nothing, returns the last read. Safe to call twice. */
  stop: () => RssSample
}

/** Options of sampleRss. */
export interface RssSamplerInit {
  /** Time between samples, ms. Default 25 (an attack's peak lasts longer; a GC cycle may not). */
  intervalMs?: number
}

/**
 * Samples the RSS of `pid` every `intervalMs` from now on, keeping the
 * baseline (the first sample) and the peak. A process that exited keeps
 * the last values seen. Call it once the process is warmed up (has served
 * what the attack will make it serve), or the peak holds its first-use
 * allocations (code, JIT, buffers) rather than what the attack cost.
 */
export function sampleRss (pid: number, init: RssSamplerInit = {}): RssSampler {
  const baselineMiB = rssMiB(pid)
  let peakMiB = baselineMiB
  const sample = (): void => { try { peakMiB = Math.max(peakMiB, rssMiB(pid)) } catch {} }
  const timer: ReturnType<typeof setInterval> | undefined = setInterval(sample, init.intervalMs ?? 25)
  let stopped = false
  const read = (): RssSample => {
    if (!stopped) sample()
    return { baselineMiB, peakMiB, growthMiB: peakMiB - baselineMiB }
  }
  return {
    read,
    stop: () => {
      const last = read()
      stopped = true
      clearInterval(timer)
      return last
    }
  }
}
