import { expect } from 'chai'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { runCli } from '../helpers/run-cli.js'
import { startOriginSeeder, type OriginSeeder } from '../../seeders/origin-seeder.js'
import { startSwarmPeer, type SwarmPeer } from '../../src/client/swarm-peer.js'

interface Done { event: string, lengthBytes: number, downloadedFromPeersBytes: number, downloadedFromSeedersBytes: number }

describe('cli: get counts a source as an origin by what it says it is, not by how it was named', function () {
  this.timeout(60_000)
  let fx: Fixture
  let seeder: OriginSeeder
  let peer: SwarmPeer
  before(async () => {
    fx = await makeFixture(6 * 16 * 1024 - 5, 16 * 1024)
    seeder = await startOriginSeeder({ store: fx.store, listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'] })
    // A regular peer holding the item (a `get --seed` after its download).
    peer = await startSwarmPeer({ store: fx.store, listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'] })
  })
  after(async () => { await peer?.stop(); await seeder?.stop(); await fx.store.close(); await rm(fx.dir, { recursive: true, force: true }) })

  async function get (name: string, ...args: string[]): Promise<Done> {
    const r = await runCli(['get', fx.manifest.contentId, ...args, '-o', join(fx.dir, name), '--json'], { timeoutMs: 20_000 })
    expect(r.code, r.stderr).to.equal(0)
    const done = r.stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Done).find(e => e.event === 'done')
    expect(done, r.stdout).to.not.equal(undefined)
    return done as Done
  }

  it('counts an origin seeder dialled with --peer as from seeders (its handshake says origin)', async () => {
    const done = await get('a.bin', '--peer', seeder.multiaddrs[0])
    expect(done).to.include({ downloadedFromSeedersBytes: fx.manifest.lengthBytes, downloadedFromPeersBytes: 0 })
  })

  it('prints the split in the text summary', async () => {
    const r = await runCli(['get', fx.manifest.contentId, '--peer', seeder.multiaddrs[0], '-o', join(fx.dir, 'b.bin')], { timeoutMs: 20_000 })
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stderr).to.include('  0.0 MiB from peers, 0.1 MiB from seeders, 1 source(s):\n')
  })

  it('counts a regular peer as a peer, even when named with --origin', async () => {
    expect(await get('c.bin', '--peer', peer.multiaddrs[0])).to.include({ downloadedFromPeersBytes: fx.manifest.lengthBytes, downloadedFromSeedersBytes: 0 })
    expect(await get('d.bin', '--origin', peer.multiaddrs[0])).to.include({ downloadedFromPeersBytes: fx.manifest.lengthBytes, downloadedFromSeedersBytes: 0 })
  })
})
