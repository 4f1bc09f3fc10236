/**
 * Simulator benchmark with the protocol wired: the CDN steady state (98%
 * leaves with KAD-like churn, 2% long-lived supernodes, 4 origin seeders,
 * Zipf catalog, diurnal demand) over one simulated day, run first with the
 * models-only origin baseline and then with the swarmcdn core stack on
 * every node, in the same invocation. Reports events/s, wall time,
 * simulated hours reached within the budget, peak RSS, and the ratio
 * protocol / baseline.
 *
 *   node_modules/.bin/node dist/bench/sim-protocol.js [--peers 10000,100000] [--budget-s 600] [--duration-h 24] [--skip-baseline] [--nat-share 0.5]
 */
import { DCUTR_PUNCH_SUCCESS } from '../sim/models/nat.js'
import { runScenario, type RunResult } from '../sim/run-scenario.js'
import { MESSAGE_COUNTS } from '../sim/node/protocol-host.js'
import type { Scenario } from '../sim/scenario/scenario.js'
import { benchArgs } from './bench-args.js'
import { cdnSteadyState } from './cdn-steady-state.js'
import './sim-flags.js'

const USAGE = `usage: node_modules/.bin/node dist/bench/sim-protocol.js [options]

The CDN steady state with the swarmcdn protocol on every node, beside the
models-only origin baseline, one simulated day per size.

  --peers N[,N...]   sizes to run (default 10000,100000)
  --budget-s S       wall-clock budget per run, in seconds; a run over it
                     stops and reports the simulated hours reached (default 600)
  --duration-h H     simulated hours per run (default 24; e.g. 2 for quick A/B)
  --skip-baseline    run the protocol only
  --nat-share S      share of leaves behind home NATs, 0-1 (sim/models/nat.ts;
                     default 0)
  --punch            NATed pairs hole-punch as libp2p's DCUtR measured
                     (cone-cone 0.7); default: no punching, as swarmcdn runs
  --shipped-list     leaves discover supernodes from random seeders and static
                     supernodes (protocol param leafDiscovery 'shipped-list'),
                     not from the seeders alone
  --help             this text

Set SIM_MESSAGE_COUNTS=1 to also print the messages sent by type.`
const opts = benchArgs({ usage: USAGE, numbers: { 'budget-s': 600, 'duration-h': 24, 'nat-share': 0 }, lists: { peers: [10_000, 100_000] }, flags: ['skip-baseline', 'shipped-list', 'punch'] })
const sizes = opts.lists.peers
const budgetS = opts.numbers['budget-s']
const skipBaseline = opts.flags['skip-baseline']
const durationS = Math.round(opts.numbers['duration-h'] * 3600)
if (!(opts.numbers['nat-share'] >= 0 && opts.numbers['nat-share'] <= 1)) {
  process.stderr.write(`--nat-share must be between 0 and 1, got ${opts.numbers['nat-share']}\n`)
  process.exit(2)
}

function scenario (peers: number, kind: 'origin-baseline' | 'swarmcdn'): Scenario {
  const natShare = opts.numbers['nat-share']
  const sc = cdnSteadyState(peers, { name: `bench-protocol-${peers}`, durationS, kind, ...(natShare > 0 ? { natShare } : {}), ...(opts.flags.punch ? { punchSuccess: DCUTR_PUNCH_SUCCESS } : {}) })
  if (opts.flags['shipped-list'] && kind === 'swarmcdn') sc.protocol.params = { ...sc.protocol.params, leafDiscovery: 'shipped-list' }
  return sc
}

function timed (peers: number, kind: 'origin-baseline' | 'swarmcdn'): { r: RunResult, aborted: boolean } {
  const ac = new AbortController()
  const t0 = performance.now()
  let lastLog = t0
  const r = runScenario(scenario(peers, kind), {
    signal: ac.signal,
    onProgress: (nowMs, events) => {
      const t = performance.now()
      if (t - lastLog > 30_000) {
        lastLog = t
        const mem = process.memoryUsage()
        // CPU above wall means V8's helper threads (concurrent marking, sweeping) were busy: the GC share a profile of the main thread misses.
        const cpu = process.cpuUsage()
        const cpuS = (cpu.user + cpu.system) / 1e6
        console.log(`  … ${kind} ${peers}: ${(nowMs / 3.6e6).toFixed(2)} h simulated, ${events} events, ${((t - t0) / 1000).toFixed(0)} s wall, ${cpuS.toFixed(0)} s CPU, RSS ${(mem.rss / 2 ** 20).toFixed(0)} MiB (peak ${(process.resourceUsage().maxRSS / 1024).toFixed(0)}), heap ${(mem.heapUsed / 2 ** 20).toFixed(0)} of ${(mem.heapTotal / 2 ** 20).toFixed(0)} MiB`)
      }
      if (t - t0 > budgetS * 1000) ac.abort()
    }
  })
  return { r, aborted: ac.signal.aborted }
}

for (const peers of sizes) {
  const base = skipBaseline ? null : timed(peers, 'origin-baseline')
  const proto = timed(peers, 'swarmcdn')
  const line = (label: string, x: { r: RunResult, aborted: boolean }): string => {
    const m = x.r.summary.metrics
    return `${label} ${peers.toLocaleString('en')} peers: ${x.r.perf.events} events, ${(x.r.summary.simulatedS / 3600).toFixed(2)} h simulated${x.aborted ? ' (budget hit)' : ''}, wall ${(x.r.perf.wallMs / 1000).toFixed(1)} s, ${Math.round(x.r.perf.eventsPerSec)} events/s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB, offload ${m.originOffload.value == null ? 'n/a' : ((m.originOffload.value as number) * 100).toFixed(1) + '%'}, intra-AS ${m.intraAsPeerByteShare.value == null ? 'n/a' : ((m.intraAsPeerByteShare.value as number) * 100).toFixed(1) + '%'}, completed ${(m.requests.value as { completed: number }).completed}`
  }
  if (MESSAGE_COUNTS != null) { console.log('messages sent by type:', JSON.stringify(Object.fromEntries([...MESSAGE_COUNTS].sort((a, b) => b[1] - a[1])))); MESSAGE_COUNTS.clear() }
  if (base != null) console.log(line('baseline', base))
  console.log(line('protocol', proto))
  if (base != null) {
    const perSimHour = (x: { r: RunResult }): number => x.r.perf.wallMs / Math.max(1e-9, x.r.summary.simulatedS / 3600)
    console.log(`ratio ${peers.toLocaleString('en')}: protocol/baseline wall per simulated hour ${(perSimHour(proto) / perSimHour(base)).toFixed(1)}x, events ${(proto.r.perf.events / Math.max(1, base.r.perf.events) * (base.r.summary.simulatedS / Math.max(1e-9, proto.r.summary.simulatedS))).toFixed(1)}x per simulated hour`)
  }
}
