import { expect } from 'chai'
import { generateKeyPairSync } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { startOriginSeeder, type OriginSeeder } from '../../seeders/origin-seeder.js'
import { startPeer, type Peer } from '../../src/client/peer.js'
import { findFleetRecord } from '../../src/client/fleet-origins.js'
import { buildFleetRecord } from '../../src/core/fleet/fleet-record.js'
import { rawPublicKey } from '../../src/core/content/publisher-signature.js'
import { StaleFleetRecordError, ForeignFleetRecordError } from '../../src/core/fleet/fleet-errors.js'
import { AsnResolver } from '../../src/core/proximity/asn-resolver.js'
import { loadPrefixTableFiles } from '../../src/client/prefix-table-files.js'
import { waitFor, LOOPBACK_LIMITS } from '../helpers/wait-for.js'
import { FAST_OVERLAY } from '../helpers/fast-overlay.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'

const TABLE = fileURLToPath(new URL('../../../test/fixtures/loopback-as.csv', import.meta.url))

describe('client/fleet: the record is findable through the overlay, and a seeder keeps only newer records', function () {
  this.timeout(60_000)
  const resolver = new AsnResolver(loadPrefixTableFiles([TABLE]))
  const publisher = generateKeyPairSync('ed25519').privateKey
  let fx: Fixture
  let seeder: OriginSeeder
  let leaf: Peer

  before(async () => {
    fx = await makeFixture(64 * 1024, 16 * 1024)
    const key = await generateKeyPair('Ed25519')
    const peerId = peerIdFromPrivateKey(key).toString()
    const record = buildFleetRecord({ sequence: 5, seeders: [{ peerId, multiaddrs: ['/ip4/127.1.0.1/tcp/1'] }] }, publisher)
    seeder = await startOriginSeeder({ store: fx.store, privateKey: key, fleet: record, metrics: { host: '127.0.0.1', port: 0 }, listenMultiaddrs: ['/ip4/127.1.0.1/tcp/0'], asnResolver: resolver, overlay: FAST_OVERLAY, node: LOOPBACK_LIMITS })
    leaf = await startPeer({ role: 'leaf', bootstrap: seeder.multiaddrs, listenMultiaddrs: ['/ip4/127.2.0.1/tcp/0'], asnResolver: resolver, overlay: FAST_OVERLAY, node: LOOPBACK_LIMITS })
  })
  after(async () => {
    await leaf?.stop()
    await seeder?.stop()
    await fx.store.close()
    await rm(fx.dir, { recursive: true, force: true })
  })

  it('finds the seeder under the publisher\'s lookup id and fetches a record that verifies', async () => {
    let found: Awaited<ReturnType<typeof findFleetRecord>>
    await waitFor('the fleet record through the overlay', async () => {
      found = await findFleetRecord(leaf.node, leaf.finder, rawPublicKey(publisher), { signal: AbortSignal.timeout(10_000) })
      return found != null
    }, 30_000, 500)
    expect(found?.sequence).to.equal(5)
    expect(found?.seeders[0].peerId).to.equal(seeder.peerId)
    // Another publisher has no fleet here.
    expect(await findFleetRecord(leaf.node, leaf.finder, rawPublicKey(generateKeyPairSync('ed25519').privateKey), { signal: AbortSignal.timeout(10_000) })).to.equal(undefined)
  })

  it('announces only the items it owns, and takes a newer record while refusing older and foreign ones', async () => {
    const fleet = seeder.fleet
    if (fleet == null) throw new Error('no fleet')
    // Sole seeder: it owns everything, so the store's item is announced.
    expect(fleet.membership.owns(fx.manifest.contentId)).to.equal(true)
    // The item and the fleet's lookup id.
    expect(seeder.overlay.status().itemsHeld).to.equal(2)
    const scrape = async (): Promise<string> => await (await fetch(seeder.metricsUrl as string)).text()
    expect(await scrape()).to.include('swarmcdn_fleet_record_sequence 5\n').and.to.include('swarmcdn_fleet_items{owned="true"} 1\n')
    expect(() => fleet.update(buildFleetRecord({ sequence: 4, seeders: fleet.membership.record.seeders }, publisher))).to.throw(StaleFleetRecordError)
    expect(() => fleet.update(buildFleetRecord({ sequence: 9, seeders: fleet.membership.record.seeders }, generateKeyPairSync('ed25519').privateKey))).to.throw(ForeignFleetRecordError)
    expect(fleet.membership.record.sequence).to.equal(5)
    // A newer record without this seeder: it owns nothing, and withdraws the item.
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const change = fleet.update(buildFleetRecord({ sequence: 6, seeders: [{ peerId: other, multiaddrs: ['/ip4/127.3.0.1/tcp/1'] }] }, publisher))
    expect(change).to.deep.equal({ outcome: 'newer', gained: [], lost: [fx.manifest.contentId] })
    expect(seeder.overlay.status().itemsHeld).to.equal(1)
    expect(await scrape()).to.include('swarmcdn_fleet_record_sequence 6\n').and.to.include('swarmcdn_fleet_items{owned="false"} 1\n')
  })
})
