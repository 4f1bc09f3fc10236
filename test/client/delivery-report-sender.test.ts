import { expect } from 'chai'
import { rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { startOriginSeeder, type OriginSeeder } from '../../seeders/origin-seeder.js'
import { createSwarmNode, type SwarmNode } from '../../src/net/swarm-node.js'
import { emptyDeliveryReport } from '../../src/core/accounting/delivery-ledger.js'
import { sendDeliveryReportToFirst } from '../../src/client/delivery-report-sender.js'

/** A loopback address nobody listens on (a port bound and closed again), with a peer id nobody has (libp2p would reuse a connection to a known one). */
async function deadAddress (): Promise<string> {
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
  const port = await new Promise<number>((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => { const p = (srv.address() as { port: number }).port; srv.close(() => { resolve(p) }) })
  })
  return `/ip4/127.0.0.1/tcp/${port}/p2p/${peerId}`
}

describe('client/delivery-report-sender: the first origin that answers gets the report', function () {
  this.timeout(30_000)
  let fx: Fixture
  let empty: Fixture
  let holder: OriginSeeder
  let other: OriginSeeder
  let node: SwarmNode
  before(async () => {
    fx = await makeFixture(3 * 16 * 1024, 16 * 1024)
    holder = await startOriginSeeder({ store: fx.store, listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'], prefixTablePaths: [] })
    empty = await makeFixture(16 * 1024, 16 * 1024)
    await empty.store.remove(empty.manifest.contentId)
    other = await startOriginSeeder({ store: empty.store, listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'], prefixTablePaths: [] })
    node = await createSwarmNode({ listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'] })
  })
  after(async () => { await node?.stop(); await holder?.stop(); await other?.stop(); await fx.store.close(); await empty?.store.close(); await rm(fx.dir, { recursive: true, force: true }); if (empty != null) await rm(empty.dir, { recursive: true, force: true }) })

  const report = (): ReturnType<typeof emptyDeliveryReport> => { const r = emptyDeliveryReport(fx.manifest.contentId); r.peer['same-as'] = 1000; return r }

  it('skips an origin that cannot be reached and reports to the next', async () => {
    const dead = await deadAddress()
    expect(await sendDeliveryReportToFirst(node, [dead, holder.multiaddrs[0]], report())).to.equal('accepted')
  })

  it('stops at the first answer, a refusal included, and tries at most maxTargets', async () => {
    // `other` does not hold the item: its unknown-item is an answer, the holder is not asked.
    expect(await sendDeliveryReportToFirst(node, [other.multiaddrs[0], holder.multiaddrs[0]], report())).to.equal('unknown-item')
    const dead = await deadAddress()
    expect(await sendDeliveryReportToFirst(node, [dead, holder.multiaddrs[0]], report(), { maxTargets: 1 })).to.equal(undefined)
    expect(await sendDeliveryReportToFirst(node, [], report())).to.equal(undefined)
  })
})
