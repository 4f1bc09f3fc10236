/**
 * Simulator engine benchmark: (1) the typed-array heap against a naive
 * sorted-array queue in a hold model (pop one, push one) on the same
 * events; (2) the models alone (KAD-like churn, requests, origin-only
 * baseline transfers) at 10^4, 10^5 and 10^6 peers over one simulated day,
 * each bounded by a wall-clock budget. Reports events/s, wall time, peak
 * RSS and heap, and the heap-vs-naive ratio.
 *
 *   node_modules/.bin/node dist/bench/sim-engine.js [--max-peers 1000000] [--budget-s 300]
 */
import { EventQueue } from '../sim/engine/event-queue.js'
import { RngStreams } from '../sim/engine/rng.js'
import { runScenario } from '../sim/run-scenario.js'
import { benchArgs } from './bench-args.js'
import { cdnSteadyState } from './cdn-steady-state.js'
import './sim-flags.js'

const USAGE = `usage: node_modules/.bin/node dist/bench/sim-engine.js [options]

The event queue against a naive sorted array, then the simulator's models
alone (no protocol) at 10^4 peers and up, one simulated day each.

  --max-peers N   largest size run (default 1000000)
  --budget-s S    wall-clock budget per run, in seconds (default 300)
  --help          this text`
const opts = benchArgs({ usage: USAGE, numbers: { 'max-peers': 1_000_000, 'budget-s': 300 } })
const maxPeers = opts.numbers['max-peers']
const budgetS = opts.numbers['budget-s']

/** The baseline: keep an array sorted by (time, seq) and shift from the front. */
class NaiveQueue {
  private items: Array<[number, number, number]> = []
  private seq = 0
  push (t: number, arg: number): void {
    this.items.push([t, this.seq++, arg])
    this.items.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  }

  pop (): [number, number, number] | undefined { return this.items.shift() }
}

function holdModel (pending: number, ops: number): { heapOpsPerSec: number, naiveOpsPerSec: number } {
  const rng = new RngStreams(1).stream('bench')
  const gaps = Float64Array.from({ length: ops + pending }, () => rng.float() * 1000)
  const heap = new EventQueue(16)
  const naive = new NaiveQueue()
  for (let i = 0; i < pending; i++) { heap.push(gaps[i], 0, 0, i); naive.push(gaps[i], i) }
  let t0 = performance.now()
  for (let i = 0; i < ops; i++) { heap.pop(); heap.push(heap.topTimeMs + gaps[pending + i], 0, 0, i) }
  const heapMs = performance.now() - t0
  t0 = performance.now()
  for (let i = 0; i < ops; i++) { const e = naive.pop() as [number, number, number]; naive.push(e[0] + gaps[pending + i], i) }
  const naiveMs = performance.now() - t0
  return { heapOpsPerSec: ops / heapMs * 1000, naiveOpsPerSec: ops / naiveMs * 1000 }
}

const q = holdModel(10_000, 20_000)
const heapOnly = ((): number => {
  const rng = new RngStreams(2).stream('bench')
  const heap = new EventQueue(16)
  const pending = 1_000_000; const ops = 5_000_000
  for (let i = 0; i < pending; i++) heap.push(rng.float() * 1000, 0, 0, i)
  const t0 = performance.now()
  for (let i = 0; i < ops; i++) { heap.pop(); heap.push(heap.topTimeMs + rng.float() * 1000, 0, 0, i) }
  return ops / (performance.now() - t0) * 1000
})()
console.log(`queue, hold model, 10,000 pending: heap ${Math.round(q.heapOpsPerSec)} ops/s, naive sorted array ${Math.round(q.naiveOpsPerSec)} ops/s, ratio ${(q.heapOpsPerSec / q.naiveOpsPerSec).toFixed(0)}x`)
console.log(`queue, hold model, 1,000,000 pending: heap ${Math.round(heapOnly)} ops/s`)

for (const peers of [10_000, 100_000, 1_000_000]) {
  if (peers > maxPeers) break
  const scenario = cdnSteadyState(peers, { name: `bench-${peers}` })
  const ac = new AbortController()
  const t0 = performance.now()
  const r = runScenario(scenario, { signal: ac.signal, onProgress: () => { if (performance.now() - t0 > budgetS * 1000) ac.abort() } })
  const mem = process.memoryUsage()
  const simulatedH = r.summary.simulatedS / 3600
  console.log(`models ${peers.toLocaleString('en')} peers: ${r.perf.events} events, ${simulatedH.toFixed(1)} h simulated${ac.signal.aborted ? ' (budget hit)' : ''}, wall ${(r.perf.wallMs / 1000).toFixed(1)} s, ${Math.round(r.perf.eventsPerSec)} events/s, heapUsed ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`)
}
