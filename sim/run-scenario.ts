/**
 * Runs one scenario: builds the simulator, world, traffic flow and
 * observers, runs to the end, and returns the summary (deterministic) and
 * the perf numbers (wall clock, kept apart).
 *
 * Until the protocol core is wired, every protocol kind runs the models
 * with the ORIGIN-ONLY BASELINE flow, and the summary says so
 * (`protocol.wired: false`); protocol metrics are reported as not measured.
 */
import { RngStreams } from './engine/rng.js'
import { Simulator } from './engine/simulator.js'
import { OriginBaselineFlow } from './node/origin-baseline.js'
import { World, ROLE_SUPERNODE } from './node/world.js'
import { MetricsObserver } from './output/metrics-observer.js'
import type { Scenario } from './scenario/scenario.js'

/** Options for runScenario. */
export interface RunScenarioInit {
  /** Overrides scenario.seed. */
  seed?: number
  /** Called about every 64k events with virtual time and events so far. */
  onProgress?: (nowMs: number, events: number) => void
  signal?: AbortSignal
}

/** Deterministic outputs of a run plus wall-clock perf. */
export interface RunResult {
  summary: {
    scenario: string
    description: string
    seed: number
    simulatedS: number
    protocol: { kind: string, wired: boolean, flow: string }
    nodes: { peers: number, supernodes: number, seeders: number, ases: number }
    events: number
    metrics: ReturnType<MetricsObserver['snapshot']>
  }
  perf: { wallMs: number, events: number, eventsPerSec: number, maxRssBytes: number }
  metrics: MetricsObserver
  world: World
}

/** Runs `scenario` to its end. */
export function runScenario (scenario: Scenario, init: RunScenarioInit = {}): RunResult {
  const seed = init.seed ?? scenario.seed
  const started = performance.now()
  const sim = new Simulator(1 << 16)
  const world = new World(scenario, new RngStreams(seed), sim)
  const flow = new OriginBaselineFlow(world, sim)
  world.flow = flow
  const metrics = new MetricsObserver(world, () => flow.active)
  world.addObserver(metrics)
  world.start()
  sim.run(scenario.durationS * 1000, { onProgress: init.onProgress, signal: init.signal })
  const wallMs = performance.now() - started
  let supernodes = 0
  for (let i = 0; i < world.peerCount; i++) if (world.role[i] === ROLE_SUPERNODE) supernodes++
  const wired = false
  return {
    summary: {
      scenario: scenario.name,
      description: scenario.description,
      seed,
      simulatedS: sim.nowMs / 1000,
      protocol: { kind: scenario.protocol.kind, wired, flow: 'origin-only baseline (no peer-to-peer serving; protocol core not wired yet)' },
      nodes: { peers: world.peerCount, supernodes, seeders: world.nodeCount - world.seederBase, ases: world.net.ases.members.length },
      events: sim.eventsProcessed,
      metrics: metrics.snapshot(wired)
    },
    perf: { wallMs, events: sim.eventsProcessed, eventsPerSec: sim.eventsProcessed / Math.max(wallMs, 1e-3) * 1000, maxRssBytes: process.resourceUsage().maxRSS * 1024 },
    metrics,
    world
  }
}
