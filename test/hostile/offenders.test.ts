/**
 * Adversarial: repeat offenders on every libp2p protocol of a real origin
 * seeder (xfer, manifest, status, dht) are disconnected after a bounded
 * number of bad frames and refused while banned; frames trickled past the
 * frame deadline are cut. Attack traffic goes to loopback only.
 */
import { expect } from 'chai'
import { rm } from 'node:fs/promises'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { startOriginSeeder, type OriginSeeder } from '../../seeders/origin-seeder.js'
import { offenderGuardOf } from '../../src/net/offender-guard.js'
import { createSwarmNode, type SwarmNode } from '../../src/net/swarm-node.js'
import { registerStatusProtocol } from '../../src/net/status-protocol.js'
import { DHT_PROTOCOL, MANIFEST_PROTOCOL, STATUS_PROTOCOL, XFER_PROTOCOL } from '../../src/net/protocol-ids.js'
import { closedWithin, frame, garbageFrame, openStream, startAttacker, trickle } from '../helpers/hostile.js'
import { waitFor, LOOPBACK_LIMITS } from '../helpers/wait-for.js'

const MAX_OFFENSES = 3

describe('hostile: repeat offenders are disconnected and refused on every protocol', function () {
  this.timeout(60_000)
  let fx: Fixture
  let origin: OriginSeeder
  const nodes: SwarmNode[] = []
  before(async () => {
    fx = await makeFixture(256 * 1024, 16 * 1024)
    origin = await startOriginSeeder({
      store: fx.store,
      listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'],
      node: LOOPBACK_LIMITS,
      overlay: { requestTimeoutMs: 2000 },
      offenders: { maxOffenses: MAX_OFFENSES, banMs: 60_000 },
      xfer: { frameTimeoutMs: 300 }
    })
  })
  afterEach(async () => {
    for (const n of nodes.splice(0)) { try { await n.stop() } catch {} }
  })
  after(async () => {
    await origin?.stop()
    await fx.store.close()
    await rm(fx.dir, { recursive: true, force: true })
  })

  async function attacker (): Promise<SwarmNode> {
    const n = await startAttacker()
    nodes.push(n)
    return n
  }

  /** Sends one bad frame per fresh stream until the origin refuses the attacker; resolves with the bad frames it took. */
  async function framesUntilBanned (protocol: string, bad: () => Uint8Array): Promise<number> {
    const a = await attacker()
    const id = a.peerId.toString()
    const guard = offenderGuardOf(origin.node)
    let counted = 0
    const onOffense = (e: CustomEvent<{ peerId: string }>): void => { if (e.detail.peerId === id) counted++ }
    guard.addEventListener('peer:offense', onOffense)
    try {
      for (let sent = 0; sent < 10; sent++) {
        if (guard.refuses(id)) return sent
        const stream = await openStream(a, origin.multiaddrs[0], protocol)
        stream.send(bad())
        expect(await closedWithin(stream, 5000), `${protocol} stream ${sent + 1} reset`).to.equal(true)
        await waitFor(`offense ${sent + 1} recorded`, () => counted >= sent + 1, 3000)
      }
      return Infinity
    } finally {
      guard.removeEventListener('peer:offense', onOffense)
    }
  }

  async function expectDisconnectedAndRefused (a: SwarmNode): Promise<void> {
    await waitFor('the origin hangs up on the offender', () => origin.node.getConnections(a.peerId).length === 0, 5000)
    let refused = false
    try {
      const s = await openStream(a, origin.multiaddrs[0], STATUS_PROTOCOL, 3000)
      refused = await closedWithin(s, 3000)
    } catch {
      refused = true
    }
    expect(refused, 'a banned peer cannot open a stream again').to.equal(true)
  }

  for (const [name, protocol, bad] of [
    ['xfer', XFER_PROTOCOL, () => garbageFrame()],
    ['manifest', MANIFEST_PROTOCOL, () => garbageFrame()],
    ['status', STATUS_PROTOCOL, () => frame(new Uint8Array([1, 2, 3]))],
    ['dht', DHT_PROTOCOL, () => garbageFrame()]
  ] as const) {
    it(`disconnects and refuses a peer after ${MAX_OFFENSES} bad frames on ${name}`, async () => {
      const before = offenderGuardOf(origin.node).bans
      const taken = await framesUntilBanned(protocol, bad)
      expect(taken).to.be.at.most(MAX_OFFENSES)
      expect(offenderGuardOf(origin.node).bans).to.equal(before + 1)
      await expectDisconnectedAndRefused(nodes[nodes.length - 1])
    })
  }

  it('cuts an xfer frame trickled past the frame deadline, and counts it', async () => {
    const a = await attacker()
    const guard = offenderGuardOf(origin.node)
    const reasons: string[] = []
    const onOffense = (e: CustomEvent<{ peerId: string, reason: string }>): void => { if (e.detail.peerId === a.peerId.toString()) reasons.push(e.detail.reason) }
    guard.addEventListener('peer:offense', onOffense)
    try {
      const stream = await openStream(a, origin.multiaddrs[0], XFER_PROTOCOL)
      const started = Date.now()
      // 40 bytes at one per 50 ms would take 2 s; the deadline is 300 ms after the first byte.
      void trickle(stream, frame(new Uint8Array(39)), 50)
      expect(await closedWithin(stream, 5000)).to.equal(true)
      expect(Date.now() - started).to.be.below(2000)
      await waitFor('the trickle counted', () => reasons.length > 0, 3000)
      expect(reasons[0]).to.match(/took more than 300 ms/)
    } finally {
      guard.removeEventListener('peer:offense', onOffense)
    }
  })

  it('closes a status stream whose dialer trickles bytes within the status deadline', async () => {
    const server = await createSwarmNode({ listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'] })
    nodes.push(server)
    await registerStatusProtocol(server, () => ({ ok: true }), { timeoutMs: 500 })
    const a = await attacker()
    const stream = await openStream(a, server.getMultiaddrs()[0].toString(), STATUS_PROTOCOL)
    const started = Date.now()
    void trickle(stream, new Uint8Array(100).fill(0x7f), 100)
    expect(await closedWithin(stream, 5000)).to.equal(true)
    expect(Date.now() - started).to.be.below(3000)
  })
})
