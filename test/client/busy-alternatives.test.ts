import { expect } from 'chai'
import { fileURLToPath } from 'node:url'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { startPeer, type Peer } from '../../src/client/peer.js'
import { startSwarmPeer, type SwarmPeer } from '../../src/client/swarm-peer.js'
import type { OverlayInit } from '../../src/net/overlay-service.js'
import { AsnResolver } from '../../src/core/proximity/asn-resolver.js'
import { loadPrefixTableFiles } from '../../src/client/prefix-table-files.js'
import { waitFor, LOOPBACK_LIMITS } from '../helpers/wait-for.js'

const TABLE = fileURLToPath(new URL('../../../test/fixtures/loopback-as.csv', import.meta.url))
const PIECE = 16 * 1024
const FAST: OverlayInit = { requestTimeoutMs: 1500, keepAliveIntervalMs: 1000, refreshIntervalMs: 1000, attachWaitMs: 5000 }

describe('client: a busy seeder answers "busy, try these peers" from its overlay (loopback)', function () {
  this.timeout(60_000)
  const resolver = new AsnResolver(loadPrefixTableFiles([TABLE]))
  let fx: Fixture
  const running: Array<Peer | SwarmPeer> = []
  before(async () => { fx = await makeFixture(256 * 1024 + 17, PIECE) })
  after(async () => {
    for (const p of running.reverse()) await p.stop()
    await fx.store.close()
    await rm(fx.dir, { recursive: true, force: true })
  })

  it('leads a client that had only the seeder as source to fetch every piece from the peer the seeder named', async () => {
    // Busy from the first requester, no upload slots: the seeder serves nobody, it only names holders.
    const seeder = await startPeer({ role: 'seeder', store: fx.store, listenMultiaddrs: ['/ip4/127.1.0.1/tcp/0'], asnResolver: resolver, overlay: FAST, node: LOOPBACK_LIMITS, upload: { busyThresholdRequesters: 1, regularSlots: 0, optimisticSlots: 0 } })
    running.push(seeder)
    const holder = await startPeer({ role: 'supernode', store: fx.store, bootstrap: seeder.multiaddrs(), listenMultiaddrs: ['/ip4/127.2.0.1/tcp/0'], asnResolver: resolver, overlay: FAST, node: LOOPBACK_LIMITS })
    running.push(holder)
    await waitFor('the seeder to know the holder as a provider', async () =>
      (await seeder.overlay.findProviders(fx.manifest.contentId)).some(p => p.peerId === holder.peerId), 20_000)

    const client = await startSwarmPeer({ listenMultiaddrs: ['/ip4/127.2.0.2/tcp/0'], asnResolver: resolver })
    running.push(client)
    const res = await client.download(fx.manifest.contentId, join(fx.dir, 'out.bin'), { sources: [{ address: seeder.multiaddrs()[0], isOrigin: true }] })

    const fromHolder = [...res.bytesBySource].filter(([a]) => a.includes(holder.peerId)).reduce((s, [, b]) => s + b, 0)
    expect(fromHolder).to.equal(fx.manifest.lengthBytes)
    expect(Buffer.compare(await readFile(res.outputPath), fx.data)).to.equal(0)
    expect(seeder.swarm.gate.chokesSent).to.be.greaterThan(0)
  })
})
