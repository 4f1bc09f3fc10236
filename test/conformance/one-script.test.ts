/**
 * One script, two shells: the simulator shell (sim/node/swarmcdn-node.ts)
 * and real libp2p nodes on loopback both drive the core peer
 * (src/core/peer) and the core upload policy; fed the same script, they
 * must reach the same outcomes.
 *
 * The script: an origin seeder, 2 supernodes, 6 leaves; every leaf asks
 * for one item, 150 ms apart; one supernode stops after the third request.
 * Outcomes checked on both: after the loss every leaf is attached to the
 * surviving supernode and to no stopped one; every leaf completes; the
 * origin goes busy (4 requesters of the item at once) and names other
 * holders in its chokes ("busy, try these peers"); the share of bytes served
 * by the origin agrees within ORIGIN_SHARE_TOLERANCE.
 */
import { expect } from 'chai'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { makeFixture, slowProvider, type Fixture } from '../helpers/content-fixture.js'
import { startOriginSeeder, type OriginSeeder } from '../../seeders/origin-seeder.js'
import { startPeer, type Peer } from '../../src/client/peer.js'
import type { SwarmDownloadResult } from '../../src/client/swarm-peer.js'
import { waitFor, LOOPBACK_LIMITS } from '../helpers/wait-for.js'
import type { ContentProvider } from '../../src/net/content-provider.js'
import { FAST_OVERLAY } from '../helpers/fast-overlay.js'
import { runScenario } from '../../sim/run-scenario.js'
import { resolveScenario } from '../../sim/scenario/load-scenario.js'

const SCRIPT = {
  leaves: 6,
  supernodes: 2,
  pieceBytes: 16 * 1024,
  pieces: 32,
  /** Time between two leaves' requests, ms. */
  requestSpacingMs: 150,
  /** The supernode stops right after this many requests went out. */
  stopSupernodeAfterRequests: 3,
  /** The origin serves one piece per this many ms on a stream: slow enough that downloads overlap and it goes busy. */
  originPieceMs: 60
}
/** The two shells' origin byte shares may differ by this much: time is modelled, not measured, in the simulator. */
const ORIGIN_SHARE_TOLERANCE = 0.2
const ITEM_BYTES = SCRIPT.pieceBytes * SCRIPT.pieces

/** What the test compares. */
interface Outcome {
  /** Per leaf, after the loss: attached to the surviving supernode, and to a stopped one. */
  attachments: Array<{ survivor: boolean, stopped: boolean }>
  completed: number
  /** Times the origin's upload policy saw the item go busy. */
  originBusy: number
  /** Holders the origin named in its busy chokes and declines. */
  originNamed: number
  originShare: number
}

function checkOutcome (o: Outcome, shell: string): void {
  for (const [i, a] of o.attachments.entries()) {
    expect(a.survivor, `${shell}: leaf ${i} attached to the surviving supernode`).to.equal(true)
    expect(a.stopped, `${shell}: leaf ${i} still attached to the stopped supernode`).to.equal(false)
  }
  expect(o.completed, `${shell}: leaves that completed`).to.equal(SCRIPT.leaves)
  expect(o.originBusy, `${shell}: the origin went busy`).to.be.greaterThan(0)
  expect(o.originNamed, `${shell}: holders the busy origin named`).to.be.greaterThan(0)
  expect(o.originShare, `${shell}: origin share of bytes`).to.be.within(0, 1)
}

/** The script as a scenario: leaves are nodes 0-5, supernodes 6-7, the seeder 8. */
function simOutcome (): Outcome {
  const startS = 30
  const sc = resolveScenario({
    name: 'conformance',
    durationS: 300,
    sampleIntervalS: 10,
    network: { asCount: 2 },
    populations: [
      { name: 'leaves', count: SCRIPT.leaves, initialOnline: 'all' },
      { name: 'supers', role: 'supernode', count: SCRIPT.supernodes, initialOnline: 'all' }
    ],
    // One piece per originPieceMs on one stream, as the libp2p seeder below.
    seeders: { count: 1, upBytesPerSec: SCRIPT.pieceBytes * 1000 / SCRIPT.originPieceMs },
    workload: {
      catalogItems: 1,
      itemSizeBytes: { law: 'fixed', value: ITEM_BYTES },
      requests: Array.from({ length: SCRIPT.leaves }, (_, i) => ({ atS: startS + i * SCRIPT.requestSpacingMs / 1000, node: i, itemRank: 1 }))
    },
    faults: [{ type: 'lose-supernodes', atS: startS + (SCRIPT.stopSupernodeAfterRequests - 0.5) * SCRIPT.requestSpacingMs / 1000, fraction: 0.5 }],
    protocol: {
      kind: 'swarmcdn',
      params: { joinSpreadS: 2, keepAliveIntervalS: 2, disconnectDetectS: 1, refreshIntervalS: 1, requestTimeoutMs: FAST_OVERLAY.requestTimeoutMs, piecesPerItem: SCRIPT.pieces }
    }
  })
  const r = runScenario(sc)
  const sn = [SCRIPT.leaves, SCRIPT.leaves + 1]
  const live = sn.filter(n => r.inspect(n) != null)
  expect(live.length, 'simulator: supernodes left').to.equal(1)
  const b = r.summary.metrics.bytes.value as { fromSeeders: number, fromPeers: number }
  return {
    attachments: Array.from({ length: SCRIPT.leaves }, (_, i) => {
      const att = r.inspect(i)?.attachedTo ?? []
      return { survivor: att.includes(live[0]), stopped: att.some(n => sn.includes(n) && n !== live[0]) }
    }),
    completed: (r.summary.metrics.requests.value as { completed: number }).completed,
    originBusy: r.inspect(SCRIPT.leaves + SCRIPT.supernodes)?.uploadBusyTimes ?? 0,
    originNamed: r.inspect(SCRIPT.leaves + SCRIPT.supernodes)?.alternativesNamed ?? 0,
    originShare: b.fromSeeders / (b.fromSeeders + b.fromPeers)
  }
}

describe('conformance: one script through the simulator shell and through libp2p', function () {
  this.timeout(120_000)
  let fx: Fixture
  let seeder: OriginSeeder | undefined
  const peers: Peer[] = []
  const stopped = new Set<Peer>()
  let sim: Outcome

  before(async () => {
    fx = await makeFixture(ITEM_BYTES, SCRIPT.pieceBytes, 'clip.bin')
    sim = simOutcome()
  })
  after(async () => {
    await Promise.allSettled(peers.filter(p => !stopped.has(p)).map(async p => { await p.stop() }))
    await seeder?.stop()
    await fx.store.close()
    await rm(fx.dir, { recursive: true, force: true })
  })

  it('the simulator shell reaches the script\'s outcomes', () => {
    console.log(`      simulator: origin share ${(sim.originShare * 100).toFixed(0)}%, origin busy ${sim.originBusy} time(s), ${sim.originNamed} holders named`)
    checkOutcome(sim, 'simulator')
  })

  it('real libp2p nodes reach the same outcomes, origin share within the tolerance', async () => {
    // The origin serves nothing until every leaf has asked (as the simulated one, whose requests all fall inside one second):
    // on a loaded machine the first downloads must not end before the last start, or the origin never sees a crowd.
    let openOrigin!: () => void
    const opened = new Promise<void>(resolve => { openOrigin = resolve })
    const slow = slowProvider(fx.store, SCRIPT.originPieceMs)
    const origin: ContentProvider = { has: id => slow.has(id), manifest: id => slow.manifest(id), readPiece: async (id, i) => { await opened; return await slow.readPiece(id, i) } }
    seeder = await startOriginSeeder({ store: origin, listenMultiaddrs: ['/ip4/127.1.0.1/tcp/0'], overlay: FAST_OVERLAY })
    // The seeder serves through a slowed provider, not its store: it announces the item itself.
    seeder.overlay.announce(fx.manifest.contentId)
    const start = async (role: 'leaf' | 'supernode', ip: string, bootstrap: string[]): Promise<Peer> => {
      const p = await startPeer({ role, bootstrap, listenMultiaddrs: [`/ip4/${ip}/tcp/0`], overlay: FAST_OVERLAY, node: LOOPBACK_LIMITS })
      peers.push(p)
      return p
    }
    const supers = [await start('supernode', '127.1.0.10', [seeder.multiaddrs[0]]), await start('supernode', '127.2.0.10', [seeder.multiaddrs[0]])]
    await waitFor('both supernodes in the seeder\'s table', () => (seeder as OriginSeeder).overlay.status().routingTableSize >= 2, 10_000)
    const boot = [seeder.multiaddrs[0], supers[0].multiaddrs()[0], supers[1].multiaddrs()[0]]
    const leaves: Peer[] = []
    for (let i = 0; i < SCRIPT.leaves; i++) leaves.push(await start('leaf', `127.${1 + (i % 2)}.1.${10 + i}`, boot))
    await waitFor('every leaf attached to both supernodes', () => leaves.every(l => supers.every(s => l.overlay.status().attached.some(a => a.peerId === s.peerId))), 15_000)

    // The overlay has settled when every leaf's lookup names the origin (as the simulated leaves' do by the first request).
    const originId = seeder.peerId
    await waitFor('every leaf finds the origin', async () => {
      const found = await Promise.all(leaves.map(async l => await l.finder(fx.manifest.contentId, { signal: AbortSignal.timeout(5000) }).catch(() => [])))
      return found.every(f => f.some(p => p.peerId === originId))
    }, 20_000, 200)
    const runs: Array<Promise<SwarmDownloadResult>> = []
    const [lost, survivor] = supers
    for (const [i, l] of leaves.entries()) {
      runs.push(l.download(fx.manifest.contentId, join(fx.dir, `out-${i}.bin`), { signal: AbortSignal.timeout(60_000) }))
      if (i + 1 === SCRIPT.stopSupernodeAfterRequests) { stopped.add(lost); await lost.stop() }
      await new Promise(resolve => setTimeout(resolve, SCRIPT.requestSpacingMs))
    }
    // Every leaf's stream reached the origin before it serves a byte: a crowd of six, whatever the machine's load.
    const gate = seeder.peer.swarm.gate
    await waitFor('every leaf connected to the origin', () => gate.requesters >= SCRIPT.leaves, 30_000)
    openOrigin()
    const results = await Promise.all(runs)
    for (const r of results) expect(Buffer.compare(await readFile(r.outputPath), fx.data), r.outputPath).to.equal(0)
    await waitFor('leaves detached from the stopped supernode', () => leaves.every(l => !l.overlay.status().attached.some(a => a.peerId === lost.peerId)), 15_000)

    let originBytes = 0
    let allBytes = 0
    for (const r of results) {
      for (const [addr, b] of r.bytesBySource) { allBytes += b; if (addr.includes(seeder.peerId)) originBytes += b }
    }
    const real: Outcome = {
      attachments: leaves.map(l => {
        const att = l.overlay.status().attached.map(a => a.peerId)
        return { survivor: att.includes(survivor.peerId), stopped: att.includes(lost.peerId) }
      }),
      completed: results.length,
      originBusy: seeder.peer.swarm.gate.busyTimes,
      originNamed: seeder.peer.swarm.serving().alternativesNamed,
      originShare: originBytes / allBytes
    }
    console.log(`      libp2p: origin share ${(real.originShare * 100).toFixed(0)}%, origin busy ${real.originBusy} time(s), ${real.originNamed} holders named`)
    checkOutcome(real, 'libp2p')
    expect(Math.abs(real.originShare - sim.originShare), 'origin share, libp2p vs simulator').to.be.at.most(ORIGIN_SHARE_TOLERANCE)
  })
})
