import { expect } from 'chai'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { runCli, startCli, type CliProcess } from '../helpers/run-cli.js'
import { loadOrCreateIdentity } from '../../src/client/identity-file.js'
import { readFleetFile } from '../../src/client/fleet-origins.js'
import { openFleetRecord, recordOriginOrder, recordOwners } from '../../src/core/fleet/fleet-record.js'
import { createSwarmNode } from '../../src/net/swarm-node.js'
import { fetchFleetDocument, requestFleetFetch } from '../../src/net/fleet-protocol.js'
import { multiaddr } from '@multiformats/multiaddr'
import type { ContentId } from '../../src/core/content/content-id.js'

const TABLE = 'test/fixtures/loopback-as.csv'

/** A free TCP port on `host` (closed again at once: the seeder binds it a moment later). */
async function freePort (host: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, host, () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => { resolve(port) })
    })
  })
}

describe('a seeder fleet on loopback: publish copies to owners, a download fails over when its origin dies', function () {
  this.timeout(120_000)
  let dir: string
  const seeders: CliProcess[] = []
  const ids: string[] = []
  const addrs: string[] = []
  let fleetFile: string
  let contentId: string
  const data = new Uint8Array(randomBytes(4 * 1024 * 1024))

  /** Seeder `i` (1-3) on its fixed identity, address and store. */
  function startSeeder (i: number): CliProcess {
    // 1 MiB/s each: the 4 MiB download takes seconds, long enough to kill its origin half-way.
    return startCli(['seed', '--store', join(dir, `store${i}`), '--create-store', '--identity', join(dir, `seeder${i}.id`), '--listen', addrs[i - 1], '--fleet', fleetFile, '--upload-limit', '1MiB', '--prefix-table', TABLE, '--json'])
  }

  /** Starts again the seeders an earlier test killed (same identity, address and store). */
  async function restartKilledSeeders (): Promise<void> {
    for (let k = 0; k < seeders.length; k++) {
      if (seeders[k].child.exitCode == null && seeders[k].child.signalCode == null) continue
      seeders[k] = startSeeder(k + 1)
      await seeders[k].waitFor(e => e.event === 'listening', 30_000)
    }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarmcdn-fleet-'))
    const key = join(dir, 'publisher.key')
    expect((await runCli(['keygen', '--out', key])).code).to.equal(0)
    // Three seeders in three test ASes, with identities and ports fixed before the record is signed.
    for (let i = 1; i <= 3; i++) {
      const identity = join(dir, `seeder${i}.id`)
      ids.push(peerIdFromPrivateKey((await loadOrCreateIdentity(identity)).privateKey).toString())
      addrs.push(`/ip4/127.${i}.0.1/tcp/${await freePort(`127.${i}.0.1`)}`)
    }
    fleetFile = join(dir, 'fleet.json')
    const sign = await runCli(['fleet', 'sign', '--key', key, '--sequence', '1', ...ids.flatMap((id, k) => ['--seeder', `${addrs[k]}/p2p/${id}`]), '--out', fleetFile])
    expect(sign.code, sign.stderr).to.equal(0)
    for (let i = 1; i <= 3; i++) seeders.push(startSeeder(i))
    await Promise.all(seeders.map(async p => await p.waitFor(e => e.event === 'listening', 30_000)))
    await writeFile(join(dir, 'talk.bin'), data)
    const pub = await runCli(['publish', join(dir, 'talk.bin'), '--key', key, '--store', join(dir, 'master'), '--piece-size', '256KiB', '--fleet', fleetFile, '--json'], { timeoutMs: 60_000 })
    expect(pub.code, pub.stderr).to.equal(0)
    const events = pub.stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, string>)
    contentId = events.find(e => e.event === 'published')?.contentId as string
    const copies = events.filter(e => e.event === 'fleet-copy')
    const record = await readFleetFile(fleetFile)
    // Copied to exactly its two rendezvous owners, each of which fetched it.
    expect(copies.map(c => c.peerId).sort()).to.deep.equal(recordOwners(record, contentId).sort())
    expect(copies.every(c => c.outcome === 'fetched'), JSON.stringify(copies)).to.equal(true)
  })

  after(async () => {
    await Promise.all(seeders.map(async p => await p.stop('SIGTERM')))
    await rm(dir, { recursive: true, force: true })
  })

  it('serves the record; a seeder refuses an item it does not own, and `fleet sign` a record that is not newer', async () => {
    const record = await readFleetFile(fleetFile)
    const nonOwner = ids.find(id => !recordOwners(record, contentId).includes(id)) as string
    const k = ids.indexOf(nonOwner)
    // The non-owner was not offered the item, and refuses it when offered anyway.
    expect(seeders[k].events.some(e => e.event === 'provider:announced' && e.contentId === contentId)).to.equal(false)
    const node = await createSwarmNode({ listenMultiaddrs: ['/ip4/127.5.0.1/tcp/0'] })
    try {
      const answer = await requestFleetFetch(node, multiaddr(`${addrs[k]}/p2p/${nonOwner}`), contentId as ContentId, { timeoutMs: 10_000 })
      expect(answer.fetch).to.equal('refused')
      expect(answer.reason).to.match(/not an owner/)
      // Every seeder serves the record it holds, and it verifies under the publisher's key.
      const doc = await fetchFleetDocument(node, multiaddr(`${addrs[k]}/p2p/${nonOwner}`))
      expect(openFleetRecord(doc as Uint8Array, record.publisherKey).sequence).to.equal(1)
    } finally { await node.stop() }
    // A record that is not newer is refused before it ships.
    const again = await runCli(['fleet', 'sign', '--key', join(dir, 'publisher.key'), '--sequence', '0', ...ids.flatMap((id, j) => ['--seeder', `${addrs[j]}/p2p/${id}`]), '--out', fleetFile])
    expect(again.code).to.equal(1)
    expect(again.stderr).to.match(/older than the held record 1/)
  })

  it('finds the fleet record through the overlay with --fleet-publisher and downloads from the owners', async () => {
    const record = await readFleetFile(fleetFile)
    const owner = recordOriginOrder(record, contentId)[0].peerId
    const k = ids.indexOf(owner)
    const out = join(dir, 'via-overlay.bin')
    const r = await runCli(['get', contentId, '--bootstrap', `${addrs[k]}/p2p/${owner}`, '--fleet-publisher', Buffer.from(record.publisherKey).toString('hex'), '-o', out, '--listen', '/ip4/127.4.0.3/tcp/0', '--prefix-table', TABLE, '--json'], { timeoutMs: 60_000 })
    expect(r.code, r.stderr).to.equal(0)
    const events = r.stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>)
    expect(events.find(e => e.event === 'fleet')).to.include({ sequence: 1, seeders: 3 })
    expect(Buffer.from(await readFile(out)).equals(Buffer.from(data))).to.equal(true)
  })

  it('adds the next owner within the stall bound when the serving seeder hangs (SIGSTOP) half-way', async () => {
    const record = await readFleetFile(fleetFile)
    const order = recordOriginOrder(record, contentId).map(s => s.peerId)
    const out = join(dir, 'stalled.bin')
    const first = ids.indexOf(order[0])
    const get = startCli(['get', contentId, '--fleet', fleetFile, '-o', out, '--listen', '/ip4/127.4.0.2/tcp/0', '--prefix-table', TABLE, '--json'])
    try {
      await get.waitFor(e => e.event === 'progress' && Number(e.verifiedBytes) >= data.length / 2 && Number(e.verifiedBytes) < data.length, 60_000)
      seeders[first].child.kill('SIGSTOP')
      const done = await get.waitFor(e => e.event === 'done', 60_000) as { failovers: Array<{ from: string, to: string, reason: string, lostMs: number }>, deliveryReport: unknown }
      expect(Buffer.from(await readFile(out)).equals(Buffer.from(data))).to.equal(true)
      expect(done.failovers).to.have.length(1)
      expect(done.failovers[0]).to.include({ from: order[0], to: order[1], reason: 'stalled' })
      // The delivery report went to the origin in use, not the hung one (which would time out).
      expect(done.deliveryReport).to.equal('accepted')
      // The stall rule's 5 s, plus a loaded machine's slack.
      expect(done.failovers[0].lostMs).to.be.within(4_000, 15_000)
      console.log(`      time lost to a hung origin: ${done.failovers[0].lostMs} ms`)
    } finally {
      seeders[first].child.kill('SIGCONT')
      await get.stop('SIGTERM')
    }
  })

  it('completes from the next owner with verified bytes when the serving seeder is killed half-way, and reports the time lost', async () => {
    const record = await readFleetFile(fleetFile)
    const order = recordOriginOrder(record, contentId).map(s => s.peerId)
    const out = join(dir, 'got.bin')
    const get = startCli(['get', contentId, '--fleet', fleetFile, '-o', out, '--listen', '/ip4/127.4.0.1/tcp/0', '--prefix-table', TABLE, '--json'])
    try {
      await get.waitFor(e => e.event === 'progress' && Number(e.verifiedBytes) >= data.length / 2 && Number(e.verifiedBytes) < data.length, 60_000)
      const first = ids.indexOf(order[0])
      seeders[first].child.kill('SIGKILL')
      const done = await get.waitFor(e => e.event === 'done', 60_000) as { failovers: Array<{ from: string, to: string, reason: string, lostMs: number }>, bytesBySource: Record<string, number> }
      expect(Buffer.from(await readFile(out)).equals(Buffer.from(data))).to.equal(true)
      expect(done.failovers).to.have.length(1)
      expect(done.failovers[0]).to.include({ from: order[0], to: order[1], reason: 'lost' })
      expect(done.failovers[0].lostMs).to.be.a('number').and.to.be.below(30_000)
      // Both the killed origin and its replacement delivered part of the item.
      const bySeeder = (id: string): number => Object.entries(done.bytesBySource).filter(([a]) => a.endsWith(id)).reduce((n, [, b]) => n + b, 0)
      expect(bySeeder(order[0])).to.be.above(0)
      expect(bySeeder(order[1])).to.be.above(0)
      console.log(`      time lost by the failover: ${done.failovers[0].lostMs} ms`)
    } finally {
      await get.stop('SIGTERM')
    }
  })

  it('stream --fleet: a read through the gateway completes with verified bytes when the serving owner is killed half-way', async () => {
    await restartKilledSeeders()
    const record = await readFleetFile(fleetFile)
    const order = recordOriginOrder(record, contentId).map(s => s.peerId)
    const first = ids.indexOf(order[0])
    const out = join(dir, 'streamed.bin')
    const stream = startCli(['stream', contentId, '--fleet', fleetFile, '-o', out, '--prefix-table', TABLE, '--json'])
    try {
      const { url } = await stream.waitFor(e => e.event === 'streaming', 30_000) as { url: string }
      // The whole item in one read, as a player that plays from the start; the owner dies when half of it went through the gateway.
      const res = await fetch(url, { signal: AbortSignal.timeout(90_000) })
      expect(res.status).to.equal(200)
      const chunks: Buffer[] = []
      let received = 0
      let killedAt: number | undefined
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        chunks.push(Buffer.from(chunk))
        received += chunk.length
        if (killedAt === undefined && received >= data.length / 2) {
          killedAt = received
          seeders[first].child.kill('SIGKILL')
        }
      }
      expect(killedAt, 'the read reached half-way').to.be.a('number')
      expect(Buffer.concat(chunks).equals(Buffer.from(data)), 'bytes read through the gateway').to.equal(true)
      const done = await stream.waitFor(e => e.event === 'done', 60_000) as { failovers: Array<{ from: string, to: string, reason: string, lostMs: number }> }
      // The kill came while the download still needed the owner: one failover, to the next owner in rendezvous order.
      expect(done.failovers).to.have.length(1)
      expect(done.failovers[0]).to.include({ from: order[0], to: order[1], reason: 'lost' })
      expect(done.failovers[0].lostMs).to.be.a('number').and.to.be.below(30_000)
      expect(Buffer.from(await readFile(out)).equals(Buffer.from(data)), 'the saved file').to.equal(true)
      console.log(`      stream: time lost by the failover: ${done.failovers[0].lostMs} ms (owner killed after ${killedAt} bytes read)`)
    } finally {
      await stream.stop('SIGTERM')
      await restartKilledSeeders()
    }
  })

  it('stream --fleet-publisher finds the record through the overlay and streams the item from its owners', async () => {
    await restartKilledSeeders()
    const record = await readFleetFile(fleetFile)
    const owner = recordOriginOrder(record, contentId)[0].peerId
    const k = ids.indexOf(owner)
    const stream = startCli(['stream', contentId, '--bootstrap', `${addrs[k]}/p2p/${owner}`, '--fleet-publisher', Buffer.from(record.publisherKey).toString('hex'), '-o', join(dir, 'streamed-overlay.bin'), '--prefix-table', TABLE, '--json'])
    try {
      expect(await stream.waitFor(e => e.event === 'fleet', 30_000)).to.include({ sequence: 1, seeders: 3 })
      const { url } = await stream.waitFor(e => e.event === 'streaming', 30_000) as { url: string }
      const res = await fetch(url, { signal: AbortSignal.timeout(60_000) })
      expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(data))).to.equal(true)
      const done = await stream.waitFor(e => e.event === 'done', 60_000) as { failovers: unknown[], deliveryReport: string }
      expect(done.failovers).to.have.length(0)
      expect(done.deliveryReport).to.equal('accepted')
    } finally {
      await stream.stop('SIGTERM')
    }
  })
})
