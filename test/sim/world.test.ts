import { readdirSync } from 'node:fs'
import { expect } from 'chai'
import { RngStreams } from '../../sim/engine/rng.js'
import { Simulator } from '../../sim/engine/simulator.js'
import { OriginBaselineFlow } from '../../sim/node/origin-baseline.js'
import type { TransferRecord } from '../../sim/node/observer.js'
import { World } from '../../sim/node/world.js'
import { runScenario } from '../../sim/run-scenario.js'
import { loadScenario, resolveScenario, ScenarioError } from '../../sim/scenario/load-scenario.js'
import { summaryJson } from '../../sim/output/write-outputs.js'

const small = (extra: Record<string, unknown> = {}): unknown => ({
  durationS: 7200,
  network: { asCount: 50 },
  populations: [
    { name: 'leaves', count: 2000, churn: { preset: 'exponential-1h' } },
    { name: 'supers', role: 'supernode', count: 200, churn: { preset: 'supernode' }, initialOnline: 'all' }
  ],
  seeders: { count: 2 },
  workload: { catalogItems: 100, itemSizeBytes: { law: 'fixed', value: 10_000_000 }, requestsPerOnlinePeerPerHour: 0.5 },
  ...extra
})

function build (json: unknown, seed = 1): { sim: Simulator, world: World, downs: Array<[number, number, string]> } {
  const sim = new Simulator()
  const world = new World(resolveScenario(json), new RngStreams(seed), sim)
  const downs: Array<[number, number, string]> = []
  world.addObserver({ onNodeDown: (n, t, c) => downs.push([n, t, c]) })
  world.start()
  return { sim, world, downs }
}

describe('sim/scenario', () => {
  it('loads every shipped scenario', () => {
    const dir = 'sim/scenarios'
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'))
    expect(files.length).to.be.at.least(11)
    for (const f of files) expect(loadScenario(`${dir}/${f}`).populations.length, f).to.be.at.least(1)
  })

  it('names the bad field in its error', () => {
    const bad = (j: unknown): string => { try { resolveScenario(j); return 'no error' } catch (e) { expect(e).to.be.instanceOf(ScenarioError); return (e as ScenarioError).field } }
    expect(bad(small({ faults: [{ type: 'lose-supernodes', atS: 10, fraction: 1.5 }] }))).to.equal('faults[0].fraction')
    expect(bad(small({ workload: { zipfExponant: 1 } }))).to.equal('workload.zipfExponant')
    expect(bad({ populations: [{ count: 10, churn: { preset: 'kademlia' } }] })).to.equal('populations[0].churn.preset')
    expect(bad({ populations: [{ count: 10, churn: { sessionS: { law: 'weibull', shape: -1, scale: 3 } } }] })).to.equal('populations[0].churn.sessionS')
    expect(bad({ populations: [] })).to.equal('populations')
  })

  it('fills documented defaults', () => {
    const s = resolveScenario({ populations: [{ count: 5 }] })
    expect(s.durationS).to.equal(86400)
    expect(s.seeders.count).to.equal(1)
    expect(s.network.latency).to.deep.equal({ sameAsMs: 5, sameRegionMs: 30, otherMs: 100, jitterFraction: 0.2 })
    expect(s.populations[0].churnPreset).to.equal('none')
    expect(s.protocol.kind).to.equal('origin-baseline')
  })
})

describe('sim/node/world', () => {
  it('loses exactly round(30%) of the online supernodes at the fault time, and never brings them back', () => {
    const { sim, world, downs } = build(small({ faults: [{ type: 'lose-supernodes', atS: 3600, fraction: 0.3 }] }))
    sim.run(3600_000 - 1)
    const before = world.onlineSupernodes
    sim.run(7200_000)
    const victims = downs.filter(([, t, c]) => c === 'fault' && t === 3600_000).map(([n]) => n)
    expect(victims.length).to.equal(Math.round(0.3 * before))
    for (const v of victims) { expect(world.isSupernode(v)).to.equal(true); expect(world.online[v]).to.equal(0); expect(world.gone[v]).to.equal(1) }
  })

  it('restarts half of the online peers within the window, each down for downS', () => {
    const { sim, world, downs } = build(small({ faults: [{ type: 'mass-restart', atS: 1000, fraction: 0.5, windowS: 900, downS: 60 }] }))
    const ups: Array<[number, number]> = []
    let chosen = -1
    world.addObserver({ onNodeUp: (n, t) => ups.push([n, t]), onFault: (_k, _t, victims) => { chosen = victims } })
    sim.run(999_999)
    const onlineBefore = world.onlinePeers
    sim.run(7200_000)
    const restarts = downs.filter(([, , c]) => c === 'fault')
    expect(chosen).to.equal(Math.round(0.5 * onlineBefore))
    // a victim that churned off before its restart time is skipped
    expect(restarts.length).to.be.within(Math.round(0.8 * chosen), chosen)
    for (const [n, t] of restarts) {
      expect(t).to.be.within(1000_000, 1900_000)
      expect(ups.some(([m, u]) => m === n && u === t + 60_000)).to.equal(true)
    }
  })

  it('takes down every node of the AS with the most nodes', () => {
    const { sim, world, downs } = build(small({ faults: [{ type: 'lose-as', atS: 100, asRank: 1 }] }))
    sim.run(7200_000)
    const a = world.asIndexByRank(1)
    const victims = downs.filter(([, , c]) => c === 'fault').map(([n]) => n)
    expect(victims.length).to.be.greaterThan(0)
    for (let n = 0; n < world.nodeCount; n++) if (world.net.asOf[n] === a) expect(world.online[n]).to.equal(0)
    for (const v of victims) expect(world.net.asOf[v]).to.equal(a)
  })

  it('makes an origin-baseline transfer take latency + size / bottleneck, with fair share at the seeder', () => {
    const sim = new Simulator()
    const scenario = resolveScenario({
      network: { asCount: 1, latency: { sameAsMs: 7, jitterFraction: 0 }, accessClasses: [{ name: 'x', share: 1, upBytesPerSec: 100_000, downBytesPerSec: 1_000_000 }] },
      populations: [{ count: 2, initialOnline: 'all' }],
      seeders: { count: 1, upBytesPerSec: 1_500_000 }
    })
    const world = new World(scenario, new RngStreams(1), sim)
    const flow = new OriginBaselineFlow(world, sim)
    world.flow = flow
    const done: TransferRecord[] = []
    world.addObserver({ onTransferDone: (t) => done.push(t) })
    world.start()
    sim.run(0)
    const size = world.itemSizeBytes[0]
    flow.onRequest(0, 1, 0) // rate min(1.5e6/1, 1e6) = 1e6
    flow.onRequest(1, 1, 0) // rate min(1.5e6/2, 1e6) = 7.5e5
    sim.run(3_600_000)
    expect(done.map((t) => t.endMs)).to.deep.equal([7 + size / 1e6 * 1000, 7 + size / 7.5e5 * 1000])
    expect(done.every((t) => t.sameAs && t.fromSeeder)).to.equal(true)
  })
})

describe('sim/run-scenario', () => {
  it('writes identical summary JSON for the same seed and different for another', function () {
    this.timeout(60_000)
    const sc = resolveScenario(small({ faults: [{ type: 'lose-supernodes', atS: 3600, fraction: 0.3 }] }))
    const a = summaryJson(runScenario(sc, { seed: 42 }))
    const b = summaryJson(runScenario(sc, { seed: 42 }))
    const c = summaryJson(runScenario(sc, { seed: 43 }))
    expect(a).to.equal(b)
    expect(a).to.not.equal(c)
    const s = JSON.parse(a)
    expect(s.metrics.requests.value.total).to.be.greaterThan(0)
    expect(s.metrics.lookupSuccessRate).to.deep.equal({ unit: 'fraction', measured: false, value: null })
    expect(s.protocol.wired).to.equal(false)
  })
})
