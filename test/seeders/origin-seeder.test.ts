import { expect } from 'chai'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { startOriginSeeder, originUploadPolicy, DEFAULT_ORIGIN_BUSY_THRESHOLD_REQUESTERS, type OriginSeeder } from '../../seeders/origin-seeder.js'
import { startPeer, type Peer } from '../../src/client/peer.js'
import { startSwarmPeer, type SwarmDownloadResult, type SwarmPeer } from '../../src/client/swarm-peer.js'
import type { OverlayInit } from '../../src/net/overlay-service.js'
import { waitFor, LOOPBACK_LIMITS } from '../helpers/wait-for.js'

const PIECE = 16 * 1024
const FAST: OverlayInit = { requestTimeoutMs: 1500, keepAliveIntervalMs: 1000, refreshIntervalMs: 1000, attachWaitMs: 5000 }

describe('seeders/origin-seeder: the origin runs the peer runtime\'s upload gate', function () {
  this.timeout(60_000)
  let fx: Fixture
  const running: Array<OriginSeeder | Peer | SwarmPeer> = []
  before(async () => { fx = await makeFixture(2 * 1024 * 1024 + 17, PIECE) })
  afterEach(async () => {
    for (const p of running.reverse()) await p.stop()
    running.length = 0
  })
  after(async () => {
    await fx.store.close()
    await rm(fx.dir, { recursive: true, force: true })
  })

  /** The origin as `swarmcdn seed` builds it: default upload policy, role 'seeder'. */
  async function seeder (): Promise<OriginSeeder> {
    const s = await startOriginSeeder({ store: fx.store, listenMultiaddrs: ['/ip4/127.1.0.1/tcp/0'], overlay: FAST, node: LOOPBACK_LIMITS })
    running.push(s)
    return s
  }

  async function clients (n: number): Promise<SwarmPeer[]> {
    const out: SwarmPeer[] = []
    for (let i = 0; i < n; i++) {
      const c = await startSwarmPeer({ listenMultiaddrs: [`/ip4/127.2.0.${i + 1}/tcp/0`] })
      running.push(c)
      out.push(c)
    }
    return out
  }

  it('serves a long-tail item to fewer requesters than the busy threshold without a choke or a declined piece', async () => {
    const origin = await seeder()
    const cs = await clients(DEFAULT_ORIGIN_BUSY_THRESHOLD_REQUESTERS - 1)
    const results = await Promise.all(cs.map(async (c, i) => await c.download(fx.manifest.contentId, join(fx.dir, `tail-${i}.bin`), { sources: [{ address: origin.multiaddrs[0], isOrigin: true }] })))
    for (const r of results) {
      expect(Buffer.compare(await readFile(r.outputPath), fx.data)).to.equal(0)
      expect(fromPeer(r, origin.peerId)).to.equal(fx.manifest.lengthBytes)
    }
    expect(origin.peer.swarm.gate.chokesSent).to.equal(0)
    expect(origin.peer.swarm.gate.piecesDeclined).to.equal(0)
    expect(origin.peer.swarm.gate.bytesUploaded).to.equal(cs.length * fx.manifest.lengthBytes)
  })

  it('goes busy when more requesters than the threshold ask for one item a peer holds: chokes, spreads pieces and names the peer', async () => {
    const origin = await seeder()
    const holder = await startPeer({ role: 'supernode', store: fx.store, bootstrap: origin.multiaddrs, listenMultiaddrs: ['/ip4/127.3.0.1/tcp/0'], prefixTablePaths: [], overlay: FAST, node: LOOPBACK_LIMITS })
    running.push(holder)
    await waitFor('the origin to know the holder as a provider', async () =>
      (await origin.overlay.findProviders(fx.manifest.contentId)).some(p => p.peerId === holder.peerId), 20_000)
    // Twice the threshold: more than the 4 regular + 1 optimistic slots, so some are choked whatever the timing.
    const cs = await clients(2 * DEFAULT_ORIGIN_BUSY_THRESHOLD_REQUESTERS)
    const results = await Promise.all(cs.map(async (c, i) => await c.download(fx.manifest.contentId, join(fx.dir, `busy-${i}.bin`), { sources: [{ address: origin.multiaddrs[0], isOrigin: true }] })))
    for (const r of results) expect(Buffer.compare(await readFile(r.outputPath), fx.data)).to.equal(0)
    const gate = origin.peer.swarm.gate
    expect(gate.chokesSent + gate.piecesDeclined).to.be.greaterThan(0)
    // Clients that knew only the origin got pieces from the holder it named (or from each other).
    const fromOthers = results.reduce((s, r) => s + [...r.bytesBySource.values()].reduce((a, b) => a + b, 0) - fromPeer(r, origin.peerId), 0)
    expect(fromOthers).to.be.greaterThan(0)
    expect(gate.bytesUploaded).to.be.lessThan(cs.length * fx.manifest.lengthBytes)
  })

  it('resolves the documented defaults and turns busy mode off on request', () => {
    expect(originUploadPolicy()).to.include({ regularSlots: 4, optimisticSlots: 1, busyThresholdRequesters: 4, spreadPieces: true })
    const off = originUploadPolicy({ busyThresholdRequesters: false, uploadBytesPerSec: 1_000_000 })
    expect(off).to.deep.equal({ regularSlots: Infinity, uploadBytesPerSec: 1_000_000 })
    expect(() => originUploadPolicy({ busyThresholdRequesters: 0 })).to.throw(RangeError)
  })
})

function fromPeer (r: SwarmDownloadResult, peerId: string): number {
  return [...r.bytesBySource].filter(([a]) => a.includes(peerId)).reduce((s, [, b]) => s + b, 0)
}
