import { expect } from 'chai'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { runCli } from '../helpers/run-cli.js'
import { startOriginSeeder, type OriginSeeder } from '../../seeders/origin-seeder.js'
import { startSwarmPeer, type SwarmPeer } from '../../src/client/swarm-peer.js'
import { AsnResolver } from '../../src/core/proximity/asn-resolver.js'
import { loadPrefixTableFiles } from '../../src/client/prefix-table-files.js'

const TABLE = 'test/fixtures/loopback-as.csv'

type Counts = Record<string, number>
interface Done { event: string, downloadedByLocality: Counts, uploadedByLocality: Counts, bytesByKind: { origin: Counts, peer: Counts } }

describe('transit accounting: bytes by locality class on loopback test ASes', function () {
  this.timeout(60_000)
  let fx: Fixture
  let seeder: OriginSeeder
  let farPeer: SwarmPeer
  before(async () => {
    fx = await makeFixture(5 * 16 * 1024 - 3, 16 * 1024)
    // The seeder in AS 64601 (127.1/16), a plain peer holding the item in AS 64602 (127.2/16).
    seeder = await startOriginSeeder({ store: fx.store, listenMultiaddrs: ['/ip4/127.1.0.1/tcp/0'], prefixTablePaths: [TABLE] })
    farPeer = await startSwarmPeer({ store: fx.store, listenMultiaddrs: ['/ip4/127.2.0.1/tcp/0'], asnResolver: new AsnResolver(loadPrefixTableFiles([TABLE])) })
  })
  after(async () => { await farPeer?.stop(); await seeder?.stop(); await fx.store.close(); await rm(fx.dir, { recursive: true, force: true }) })

  async function get (name: string, listen: string, source: string): Promise<{ done: Done, stderr: string }> {
    const r = await runCli(['get', fx.manifest.contentId, '--peer', source, '--listen', listen, '--prefix-table', TABLE, '-o', join(fx.dir, name), '--json'], { timeoutMs: 30_000 })
    expect(r.code, r.stderr).to.equal(0)
    const done = r.stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Done).find(e => e.event === 'done')
    expect(done, r.stdout).to.not.equal(undefined)
    return { done: done as Done, stderr: r.stderr }
  }

  it('counts a download from an origin in the same AS as same-as, on both ends', async () => {
    const before = seeder.peer.status().traffic.uploadedByLocality['same-as']
    const { done } = await get('same.bin', '/ip4/127.1.0.9/tcp/0', seeder.multiaddrs[0])
    const n = fx.manifest.lengthBytes
    expect(done.downloadedByLocality).to.deep.equal({ 'same-as': n, 'same-prefix': 0, 'other-as': 0, unknown: 0 })
    expect(done.bytesByKind.origin['same-as']).to.equal(n)
    expect(done.bytesByKind.peer['same-as']).to.equal(0)
    // The seeder placed the requester (127.1.0.9) in its own AS too: the same rule on the other end.
    expect(seeder.peer.status().traffic.uploadedByLocality['same-as'] - before).to.equal(n)
  })

  it('counts a peer in another AS as other-as, and a shared /24 in no AS as same-prefix', async () => {
    const n = fx.manifest.lengthBytes
    const far = await get('far.bin', '/ip4/127.1.0.10/tcp/0', farPeer.multiaddrs[0])
    expect(far.done.downloadedByLocality['other-as']).to.equal(n)
    expect(far.done.bytesByKind.peer['other-as']).to.equal(n)
    expect(farPeer.stats().traffic.uploadedByLocality['other-as']).to.be.at.least(n)
    // 127.9/16 is in no AS of the table: a downloader and a peer there share 127.9.0/24 only.
    const unplaced = await startSwarmPeer({ store: fx.store, listenMultiaddrs: ['/ip4/127.9.0.1/tcp/0'], asnResolver: new AsnResolver(loadPrefixTableFiles([TABLE])) })
    try {
      const near = await get('near.bin', '/ip4/127.9.0.2/tcp/0', unplaced.multiaddrs[0])
      expect(near.done.downloadedByLocality['same-prefix']).to.equal(n)
    } finally { await unplaced.stop() }
  })

  it('prints the transit line in the text summary', async () => {
    const r = await runCli(['get', fx.manifest.contentId, '--peer', farPeer.multiaddrs[0], '--listen', '/ip4/127.2.0.9/tcp/0', '--prefix-table', TABLE, '-o', join(fx.dir, 'text.bin')], { timeoutMs: 30_000 })
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stderr).to.include('  transit: 0.1 MiB same AS, 0.0 MiB same prefix, 0.0 MiB other AS, 0.0 MiB unknown\n')
  })

  it('shows bytes up by class in swarmcdn status', async () => {
    const r = await runCli(['status', '--peer', seeder.multiaddrs[0]], { timeoutMs: 20_000 })
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/transit up +0\.1 MiB same AS, 0\.0 MiB same prefix, 0\.0 MiB other AS, 0\.0 MiB unknown/)
    expect(r.stdout).to.match(/transit down +0\.0 MiB same AS/)
  })
})
