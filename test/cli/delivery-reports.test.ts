import { expect } from 'chai'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { runCli, startCli, type CliProcess } from '../helpers/run-cli.js'
import { sample } from '../helpers/prometheus-sample.js'

const TABLE = 'test/fixtures/loopback-as.csv'

describe('cli: delivery reports count bytes a downloader got from peers at the origin (real processes, loopback ASes)', function () {
  this.timeout(120_000)
  let fx: Fixture
  const procs: CliProcess[] = []
  before(async () => {
    fx = await makeFixture(1024 * 1024, 64 * 1024)
    await fx.store.close()
  })
  after(async () => {
    await Promise.all(procs.map(async p => await p.stop('SIGTERM')))
    await rm(fx.dir, { recursive: true, force: true })
  })

  it('a second downloader that got most bytes from a seeding peer reports them, and the seeder exports them as source="peer"', async () => {
    const n = fx.manifest.lengthBytes
    // The seeder in AS 64601; both downloaders in AS 64602. A slow seeder, as an origin is under load: the second downloader's bytes come mostly from the peer.
    const seed = startCli(['seed', '--store', join(fx.dir, 'store'), '--listen', '/ip4/127.1.0.1/tcp/0', '--upload-limit', '256KiB', '--metrics', '127.0.0.1:0', '--prefix-table', TABLE, '--json'])
    procs.push(seed)
    const listening = await seed.waitFor(e => e.event === 'listening', 30_000)
    const seederAddr = (listening.multiaddrs as string[])[0]
    // The first downloader gets everything from the seeder and keeps seeding as a peer.
    const first = startCli(['get', fx.manifest.contentId, '--peer', seederAddr, '--seed', '--no-upnp', '--listen', '/ip4/127.2.0.1/tcp/0', '--prefix-table', TABLE, '-o', join(fx.dir, 'first.bin'), '--json'])
    procs.push(first)
    const firstDone = await first.waitFor(e => e.event === 'done', 60_000) as { bytesByKind: { origin: Record<string, number> } }
    expect(firstDone.bytesByKind.origin['other-as']).to.equal(n)
    const seeding = await first.waitFor(e => e.event === 'seeding', 30_000) as { multiaddrs: string[] }
    const peerAddr = seeding.multiaddrs.find(a => a.startsWith('/ip4/127.2.0.1/')) as string
    // The second has the peer and, as a fallback, the origin: peers come before origins in the piece picker.
    const second = await runCli(['get', fx.manifest.contentId, '--peer', peerAddr, '--origin', seederAddr, '--listen', '/ip4/127.2.0.2/tcp/0', '--prefix-table', TABLE, '-o', join(fx.dir, 'second.bin'), '--json'], { timeoutMs: 60_000 })
    expect(second.code, second.stderr).to.equal(0)
    const done = second.stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>).find(e => e.event === 'done') as { bytesByKind: { peer: Record<string, number>, origin: Record<string, number> }, deliveryReport: string }
    const fromPeer = done.bytesByKind.peer['same-as']
    expect(fromPeer, 'most bytes from the peer').to.be.at.least(n / 2)
    expect(fromPeer + done.bytesByKind.origin['other-as']).to.equal(n)
    expect(done.deliveryReport).to.equal('accepted')
    const text = await (await fetch(String(listening.metrics), { signal: AbortSignal.timeout(10_000) })).text()
    // Both reports reached the seeder: the first's bytes as from the origin, the second's peer bytes as from a peer.
    expect(sample(text, 'swarmcdn_delivered_bytes_total', { source: 'peer', locality: 'same-as' })).to.equal(fromPeer)
    expect(sample(text, 'swarmcdn_delivered_bytes_total', { source: 'origin', locality: 'other-as' })).to.equal(n + done.bytesByKind.origin['other-as'])
    expect(sample(text, 'swarmcdn_delivery_reports_total', { verdict: 'accepted' })).to.equal(2)
    console.log(`      second downloader: ${fromPeer} of ${n} bytes from the peer, reported and exported as source="peer"`)
  })
})
