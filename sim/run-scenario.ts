/**
 * Runs one scenario: builds the simulator, world, traffic flow and
 * observers, runs to the end, and returns the summary (deterministic) and
 * the perf numbers (wall clock, kept apart).
 *
 * Flows: `origin-baseline` serves every request whole from an origin
 * seeder (reference point); `kademlia` hosts one core DhtNode per node;
 * `swarmcdn` hosts the full core stack (DHT, tier, ranking, piece picker)
 * per node. The last two are wired (`protocol.wired: true`).
 */
import { RngStreams } from './engine/rng.js'
import { Simulator } from './engine/simulator.js'
import type { Contact } from '../src/core/dht/contact.js'
import { kademliaFactory } from './node/kademlia-node.js'
import type { NodeInspection } from './node/node-adapter.js'
import { OriginBaselineFlow } from './node/origin-baseline.js'
import { ProtocolHost } from './node/protocol-host.js'
import { SimDirectory } from './node/sim-directory.js'
import type { SimMessage } from './node/sim-messages.js'
import { swarmcdnFactory } from './node/swarmcdn-node.js'
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
  /** Overrides merged into scenario.protocol.params (the --compare variants). */
  paramsOverride?: Record<string, unknown>
  /** Label of this variant in outputs. Default 'as configured'. */
  variant?: string
}

/** Deterministic outputs of a run plus wall-clock perf. */
export interface RunResult {
  summary: {
    scenario: string
    description: string
    seed: number
    simulatedS: number
    protocol: { kind: string, wired: boolean, flow: string, variant: string, params: Record<string, unknown> }
    nodes: { peers: number, supernodes: number, seeders: number, ases: number }
    events: number
    metrics: ReturnType<MetricsObserver['snapshot']>
  }
  perf: { wallMs: number, events: number, eventsPerSec: number, maxRssBytes: number, messagesDelivered: number, messagesDropped: number }
  metrics: MetricsObserver
  world: World
  /** Each online node's protocol state at the end of the run (wired protocols). */
  inspect: (node: number) => NodeInspection | undefined
}

const FLOWS = {
  'origin-baseline': 'origin-only baseline: every request is served whole by an origin seeder, peers never serve each other',
  kademlia: 'flat Kademlia: one src/core DhtNode per node, measurement lookups',
  swarmcdn: 'swarmcdn: src/core DhtNode + SupernodeIndex (supernodes, seeders), LeafAttachment (leaves), SupernodePolicy, rankPeers, DownloadSession per download'
}

/**
 * A run in progress, advanced in virtual time by the caller: tests of
 * overlay behaviour read the nodes' state between steps (`inspect`).
 */
export interface ScenarioRun {
  /** Virtual time now, ms. */
  readonly nowMs: number
  readonly world: World
  /** Runs every event up to `untilMs` (at most the scenario's end); virtual time is then `untilMs`. */
  runUntil: (untilMs: number) => void
  /** Each online node's protocol state now (wired protocols). */
  inspect: (node: number) => NodeInspection | undefined
  /** How node `node` appears to the core (its id, peer id and address). */
  contactOf: (node: number) => Contact
  /** Runs to the scenario's end and returns the result (call once). */
  finish: () => RunResult
}

/** Runs `scenario` to its end. */
export function runScenario (scenario: Scenario, init: RunScenarioInit = {}): RunResult {
  return startScenario(scenario, init).finish()
}

/** Builds the simulator, world, flow and observers for `scenario` and starts it at virtual time 0; nothing runs until `runUntil` or `finish`. */
export function startScenario (scenario: Scenario, init: RunScenarioInit = {}): ScenarioRun {
  const seed = init.seed ?? scenario.seed
  const params = { ...scenario.protocol.params, ...init.paramsOverride }
  const started = performance.now()
  const sim = new Simulator(1 << 16)
  const world = new World(scenario, new RngStreams(seed), sim)
  const kind = scenario.protocol.kind
  let transfers: () => number
  let host: ProtocolHost<SimMessage> | null = null
  let inspect: RunResult['inspect'] = () => undefined
  const dir = new SimDirectory(world)
  if (kind === 'origin-baseline') {
    const flow = new OriginBaselineFlow(world, sim)
    world.flow = flow
    transfers = () => flow.active
  } else {
    const factory = kind === 'kademlia' ? kademliaFactory(world, dir, params) : swarmcdnFactory(world, dir, params)
    const h = new ProtocolHost<SimMessage>(world, sim, factory.create, kind === 'swarmcdn')
    host = h
    world.flow = h
    if (factory.observer != null) world.addObserver(factory.observer())
    if (factory.inspect != null) inspect = factory.inspect
    transfers = () => h.transfersInFlight
  }
  const metrics = new MetricsObserver(world, transfers)
  world.addObserver(metrics)
  world.start()
  const endMs = scenario.durationS * 1000
  const runUntil = (untilMs: number): void => { sim.run(Math.min(untilMs, endMs), { onProgress: init.onProgress, signal: init.signal }) }
  const finish = (): RunResult => {
    runUntil(endMs)
    return result(scenario, init, seed, params, started, sim, world, metrics, host, inspect)
  }
  return { get nowMs () { return sim.nowMs }, world, runUntil, inspect, contactOf: node => dir.contact(node), finish }
}

function result (scenario: Scenario, init: RunScenarioInit, seed: number, params: Record<string, unknown>, started: number, sim: Simulator, world: World,
  metrics: MetricsObserver, host: ProtocolHost<SimMessage> | null, inspect: RunResult['inspect']): RunResult {
  const kind = scenario.protocol.kind
  const wallMs = performance.now() - started
  let supernodes = 0
  for (let i = 0; i < world.peerCount; i++) if (world.role[i] === ROLE_SUPERNODE) supernodes++
  const wired = kind !== 'origin-baseline'
  return {
    summary: {
      scenario: scenario.name,
      description: scenario.description,
      seed,
      simulatedS: sim.nowMs / 1000,
      protocol: { kind, wired, flow: FLOWS[kind], variant: init.variant ?? 'as configured', params },
      nodes: { peers: world.peerCount, supernodes, seeders: world.nodeCount - world.seederBase, ases: world.net.ases.members.length },
      events: sim.eventsProcessed,
      metrics: metrics.snapshot(wired)
    },
    perf: {
      wallMs,
      events: sim.eventsProcessed,
      eventsPerSec: sim.eventsProcessed / Math.max(wallMs, 1e-3) * 1000,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      messagesDelivered: host?.messagesDelivered ?? 0,
      messagesDropped: host?.messagesDropped ?? 0
    },
    metrics,
    world,
    inspect
  }
}
