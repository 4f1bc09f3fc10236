import { expect } from 'chai'
import { rm } from 'node:fs/promises'
import { multiaddr } from '@multiformats/multiaddr'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { startOriginSeeder, type OriginSeeder } from '../../seeders/origin-seeder.js'
import { createSwarmNode, type SwarmNode } from '../../src/net/swarm-node.js'
import { decodeDeliveryReport, DeliveryFrameError, encodeDeliveryReport, MAX_DELIVERY_FRAME_BYTES, sendDeliveryReport } from '../../src/net/delivery-protocol.js'
import { DeliveryReportFrame } from '../../src/net/delivery-pb.js'
import { DELIVERY_PROTOCOL } from '../../src/net/protocol-ids.js'
import { FramedStream } from '../../src/net/framed-stream.js'
import { emptyDeliveryReport } from '../../src/core/accounting/delivery-ledger.js'
import { offenderGuardOf } from '../../src/net/offender-guard.js'

describe('net/delivery-protocol: delivery reports to an origin', function () {
  this.timeout(30_000)
  let fx: Fixture
  let seeder: OriginSeeder
  let node: SwarmNode
  before(async () => {
    fx = await makeFixture(3 * 16 * 1024, 16 * 1024)
    seeder = await startOriginSeeder({ store: fx.store, listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'], prefixTablePaths: [] })
    node = await createSwarmNode({ listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'] })
  })
  after(async () => { await node?.stop(); await seeder?.stop(); await fx.store.close(); await rm(fx.dir, { recursive: true, force: true }) })

  it('round-trips a report and refuses malformed ones with a typed error', () => {
    const r = emptyDeliveryReport(fx.manifest.contentId)
    r.peer['other-as'] = 2 ** 40
    r.origin.unknown = 7
    const bytes = encodeDeliveryReport(r)
    expect(bytes.length).to.be.below(MAX_DELIVERY_FRAME_BYTES)
    expect(decodeDeliveryReport(bytes)).to.deep.equal(r)
    expect(() => decodeDeliveryReport(DeliveryReportFrame.encode({ contentId: 'not-a-cid' }))).to.throw(DeliveryFrameError)
    expect(() => decodeDeliveryReport(DeliveryReportFrame.encode({ contentId: fx.manifest.contentId, peer: { sameAs: 2n ** 60n, samePrefix: 0n, otherAs: 0n, unknown: 0n } }))).to.throw(DeliveryFrameError, /2\^53/)
    expect(() => decodeDeliveryReport(new Uint8Array([0xff, 0xff, 0xff]))).to.throw(DeliveryFrameError)
  })

  it('accepts one report per peer and item, then says duplicate; an item it does not hold is unknown-item', async () => {
    const target = multiaddr(seeder.multiaddrs[0])
    const r = emptyDeliveryReport(fx.manifest.contentId)
    r.peer['same-as'] = fx.manifest.lengthBytes
    expect(await sendDeliveryReport(node, target, r)).to.equal('accepted')
    expect(await sendDeliveryReport(node, target, r)).to.equal('duplicate')
    const other = emptyDeliveryReport('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
    expect(await sendDeliveryReport(node, target, other)).to.equal('unknown-item')
    expect(seeder.peer.deliveries?.peer['same-as']).to.equal(fx.manifest.lengthBytes)
  })

  it('resets a garbage frame and counts it as an offense', async () => {
    const guard = offenderGuardOf(seeder.node)
    const before = guard.offenses
    const stream = await node.dialProtocol(multiaddr(seeder.multiaddrs[0]), DELIVERY_PROTOCOL, { signal: AbortSignal.timeout(5_000) })
    const framed = new FramedStream(stream, { maxFrameBytes: MAX_DELIVERY_FRAME_BYTES })
    await framed.write(new Uint8Array([0x0a, 0x03, 0x61, 0x62, 0x63]), AbortSignal.timeout(5_000))
    const answer = await framed.read(AbortSignal.timeout(5_000)).catch(() => null)
    expect(answer).to.equal(null)
    expect(guard.offenses).to.equal(before + 1)
  })
})
