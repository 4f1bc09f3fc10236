/**
 * Overlay behaviour through the simulator shell: the real core peer
 * (src/core/peer) of every node, driven by sim/ in virtual time, as
 * `swarmcdn sim` runs it. These replace the tests that wired DhtNode,
 * LeafAttachment and SupernodeIndex together with hand-written zero-latency
 * loops; what one machine does on its own stays in test/core.
 */
import { expect } from 'chai'
import { startScenario, type ScenarioRun } from '../../sim/run-scenario.js'
import { resolveScenario } from '../../sim/scenario/load-scenario.js'
import { compareDistance } from '../../src/core/ids.js'
import { itemKey } from '../../sim/node/swarmcdn-shared.js'

const ITEM_BYTES = 1_000_000

type Value = any // eslint-disable-line @typescript-eslint/no-explicit-any
const metric = (r: ReturnType<ScenarioRun['finish']>, name: string): Value => r.summary.metrics[name].value

/** Online nodes among `nodes`. */
const online = (run: ScenarioRun, nodes: number[]): number[] => nodes.filter(n => run.inspect(n) != null)
const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i)

describe('sim/overlay: overlay behaviour through the simulator shell', function () {
  this.timeout(60_000)

  describe('DHT members (every peer a member)', () => {
    const MEMBERS = 300
    const K = 20
    /** Node 0 fetches the item at 120 s and announces it; 20 members ask at 300 s; a quarter of all nodes vanish at 800 s; 20 more ask at 1000 s. */
    const scenario = (): ReturnType<typeof resolveScenario> => resolveScenario({
      name: 'dht-members',
      durationS: 1500,
      sampleIntervalS: 30,
      network: { asCount: 10 },
      populations: [{ name: 'members', count: MEMBERS, initialOnline: 'all' }],
      seeders: { count: 1 },
      workload: {
        catalogItems: 1,
        itemSizeBytes: { law: 'fixed', value: ITEM_BYTES },
        requests: [
          { atS: 120, node: 0, itemRank: 1 },
          ...range(0, 20).map(i => ({ atS: 300 + i, node: 10 + i * 7, itemRank: 1 })),
          ...range(0, 20).map(i => ({ atS: 1000 + i, node: 11 + i * 7, itemRank: 1 }))
        ]
      },
      faults: [{ type: 'lose-nodes', atS: 800, fraction: 0.25, role: 'any' }],
      protocol: { kind: 'swarmcdn', params: { supernodes: false, k: K, joinSpreadS: 60 } }
    })

    it('stores the first holder\'s record on exactly the k members closest to the key', () => {
      const run = startScenario(scenario())
      // Node 0 completed and announced; nobody else holds the item yet.
      run.runUntil(250_000)
      const key = itemKey(1)
      const members = online(run, range(1, MEMBERS))
      const closest = members.sort((a, b) => compareDistance(key, run.contactOf(a).id, run.contactOf(b).id)).slice(0, K)
      const storing = online(run, range(1, MEMBERS + 1)).filter(n => (run.inspect(n)?.providerRecords ?? 0) > 0)
      expect(storing.sort((a, b) => a - b)).to.deep.equal(closest.sort((a, b) => a - b))
    })

    it('lets members find a holder in a few hops, and still after a quarter of them vanished', () => {
      const r = startScenario(scenario()).finish()
      const requests = metric(r, 'requests')
      expect(requests.total).to.be.at.least(35) // a requester lost in the fault does not ask
      expect(requests.completed).to.equal(requests.total)
      // Peers served nearly everything: the finds named the holders, the origin gave the first copy.
      const bytes = metric(r, 'bytes')
      expect(bytes.fromSeeders).to.be.at.most(3 * ITEM_BYTES)
      const hops = metric(r, 'lookupHops')
      expect(hops.count).to.be.at.least(30)
      expect(hops.p99).to.be.within(1, 6)
      const [fault] = metric(r, 'faultRecovery')
      expect(fault.victims).to.equal(75)
      expect(fault.lookupSuccessBefore).to.be.at.least(0.9)
      expect(fault.lookupSuccessAfter).to.be.at.least(0.9)
    })
  })

  describe('supernode tier', () => {
    /** `leaves` leaves (nodes 0..leaves-1, role auto) and `supers` static supernodes (next indices), one seeder, one AS unless told. */
    const tier = (o: { leaves: number, supers: number, durationS?: number, requests?: unknown[], faults?: unknown[], params?: Record<string, unknown> }): ReturnType<typeof resolveScenario> => resolveScenario({
      name: 'tier',
      durationS: o.durationS ?? 900,
      sampleIntervalS: 10,
      network: { asCount: 1 },
      populations: [
        { name: 'leaves', count: o.leaves, initialOnline: 'all' },
        { name: 'supers', role: 'supernode', count: o.supers, initialOnline: 'all' }
      ],
      seeders: { count: 1 },
      workload: { catalogItems: 1, itemSizeBytes: { law: 'fixed', value: ITEM_BYTES }, requests: o.requests ?? [] },
      faults: o.faults ?? [],
      protocol: { kind: 'swarmcdn', params: { joinSpreadS: 20, ...o.params } }
    })
    const attachments = (run: ScenarioRun, leaves: number): number[][] => range(0, leaves).map(i => run.inspect(i)?.attachedTo ?? [])

    it('attaches every leaf to three supernodes, and a leaf finds another leaf\'s copy through them', () => {
      const run = startScenario(tier({ leaves: 20, supers: 5, requests: [{ atS: 100, node: 0, itemRank: 1 }, { atS: 200, node: 1, itemRank: 1 }] }))
      run.runUntil(90_000)
      // The seeder (node 25) is a DHT member and takes leaves too.
      const members = range(20, 6)
      for (const a of attachments(run, 20)) {
        expect(a).to.have.length(3)
        for (const sn of a) expect(members).to.include(sn)
      }
      const r = run.finish()
      expect(metric(r, 'requests').completed).to.equal(2)
      // Leaf 1's copy came from leaf 0, whom its supernodes named; the origin served leaf 0 only.
      expect(metric(r, 'bytes')).to.include({ fromSeeders: ITEM_BYTES, fromPeers: ITEM_BYTES })
    })

    it('re-attaches a leaf whose supernode stopped silently once the loss is detected, to a live one', () => {
      const disconnectDetectS = 30
      const requestTimeoutMs = 5000
      const run = startScenario(tier({ leaves: 20, supers: 5, faults: [{ type: 'lose-supernodes', atS: 100, fraction: 0.2 }], params: { disconnectDetectS, requestTimeoutMs } }))
      run.runUntil(99_000)
      const before = attachments(run, 20)
      run.runUntil(100_000)
      const stopped = range(20, 5).filter(n => run.inspect(n) == null)
      expect(stopped).to.have.length(1)
      const hit = range(0, 20).filter(i => before[i].includes(stopped[0]))
      expect(hit.length).to.be.greaterThan(0)
      const backAfterMs = new Map<number, number>()
      for (let t = 100_000; t <= 200_000 && backAfterMs.size < hit.length; t += 500) {
        run.runUntil(t)
        for (const i of hit) {
          const a = run.inspect(i)?.attachedTo ?? []
          if (!backAfterMs.has(i) && a.length === 3 && !a.includes(stopped[0])) backAfterMs.set(i, t - 100_000)
        }
      }
      expect(backAfterMs.size).to.equal(hit.length)
      for (const ms of backAfterMs.values()) expect(ms).to.be.within(disconnectDetectS * 1000, disconnectDetectS * 1000 + requestTimeoutMs)
    })

    it('survives losing a quarter of its supernodes: every leaf stays attached to three, none over maxLeaves', () => {
      // 6 surviving supernodes x 110 slots = 660 >= 200 leaves x 3 attachments (the seeder adds 110 more).
      const maxLeaves = 110
      const run = startScenario(tier({ leaves: 200, supers: 8, faults: [{ type: 'lose-supernodes', atS: 120, fraction: 0.25 }], params: { maxLeaves } }))
      run.runUntil(119_000)
      const before = attachments(run, 200)
      expect(before.every(a => a.length === 3)).to.equal(true)
      run.runUntil(240_000)
      const lost = range(200, 8).filter(n => run.inspect(n) == null)
      expect(before.filter(a => a.some(sn => lost.includes(sn))).length, 'leaves that lost a supernode').to.be.greaterThan(50)
      // The seeder (node 208) takes leaves as a member.
      const survivors = online(run, range(200, 9))
      expect(survivors).to.have.length(7)
      for (const a of attachments(run, 200)) {
        expect(a).to.have.length(3)
        for (const sn of a) expect(survivors).to.include(sn)
      }
      for (const sn of survivors) expect(run.inspect(sn)?.leafCount).to.be.at.most(maxLeaves)
    })

    it('grows the tier when the survivors cannot hold every leaf: short leaves promote themselves and every leaf is attached again', () => {
      // 6 surviving supernodes and the seeder x 80 slots = 560 < 600 attachments wanted; the policy's need is 200 / 25 = 8 supernodes.
      const run = startScenario(tier({
        leaves: 200,
        supers: 8,
        durationS: 1200,
        faults: [{ type: 'lose-supernodes', atS: 120, fraction: 0.25 }],
        params: { leafDiscovery: 'shipped-list', maxLeaves: 80, minUptimeS: 60, policyIntervalS: 60, targetLeavesPerSupernode: 25 }
      }))
      run.runUntil(119_000)
      expect(range(0, 200).filter(i => run.inspect(i)?.role === 'supernode')).to.deep.equal([])
      run.runUntil(240_000)
      // Right after the loss some leaves are short of supernodes.
      expect(attachments(run, 200).some(a => a.length < 3)).to.equal(true)
      run.runUntil(1_200_000)
      const promoted = range(0, 200).filter(i => run.inspect(i)?.role === 'supernode')
      expect(promoted.length).to.be.within(1, 4)
      for (const [i, a] of attachments(run, 200).entries()) {
        if (promoted.includes(i)) continue
        expect(a.length, `leaf ${i}`).to.be.at.least(2)
      }
      for (const sn of online(run, range(200, 9))) expect(run.inspect(sn)?.leafCount).to.be.at.most(80)
    })
  })
})
