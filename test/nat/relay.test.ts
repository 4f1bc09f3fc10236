import { expect } from 'chai'
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { natNetUnavailable, natNetUp, type NatNet } from '../helpers/nat-net.js'
import { runCli, startCli, type CliProcess } from '../helpers/run-cli.js'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { bytesFrom } from '../helpers/bytes-by-peer.js'

const run = promisify(execFile)

type Ev = Record<string, unknown>
const done = (e: Ev): boolean => e.event === 'done'

describe('nat: relays, reverse connections and hole punching behind real NATs (network namespaces)', function () {
  this.timeout(240_000)
  let net: NatNet | undefined
  let fixture: Fixture | undefined
  let fixture2: Fixture | undefined
  let upnpOk = false
  let work: string | undefined
  const procs: CliProcess[] = []
  const listen = ['--listen', '/ip4/0.0.0.0/tcp/4001', '--json']
  let bootstrap: string[] = []
  let seederId = ''

  const start = (ns: string, args: string[]): CliProcess => {
    const p = startCli([...args, ...listen, ...bootstrap], { prefix: net!.exec(ns) })
    procs.push(p)
    return p
  }
  /** A leaf in `ns` holding the item (a copy of the seeder's store), once it holds relay reservations at two supernodes. */
  const natedProvider = async (ns: string): Promise<{ proc: CliProcess, peerId: string }> => {
    const store = join(work!, `store-${ns}`)
    await cp(fixture!.store.dir, store, { recursive: true })
    const proc = start(ns, ['peer', '--role', 'leaf', '--store', store])
    const up = await proc.waitFor(e => e.event === 'listening', 30_000)
    await proc.waitFor(e => e.event === 'reachability:changed' && e.reachability === 'private', 60_000)
    await proc.waitFor(() => proc.events.filter(e => e.event === 'relay:reserved').length >= 2, 60_000)
    return { proc, peerId: String(up.peerId) }
  }
  const get = async (ns: string, name: string, extra: string[] = []): Promise<Ev> => {
    const out = join(work!, name)
    const p = start(ns, ['get', fixture!.manifest.contentId, '-o', out, ...extra])
    const ev = await p.waitFor(done, 120_000)
    expect(Buffer.from(await readFile(out)).equals(Buffer.from(fixture!.data)), `${name}: bytes differ from the item`).to.equal(true)
    return ev
  }

  before(async function () {
    const why = await natNetUnavailable()
    if (why !== undefined) {
      console.log(`      skipped: ${why}`)
      this.skip()
    }
    fixture = await makeFixture(4 * 1024 * 1024, 256 * 1024)
    work = await mkdtemp(join(tmpdir(), 'swarmcdn-nat-'))
    // p1 seeder, p2 p3 supernodes, p4 a public downloader; home 1 symmetric, homes 2 and 3 cone, home 4 cone with miniupnpd.
    upnpOk = await run('bash', ['-c', 'command -v miniupnpd'], { timeout: 10_000 }).then(() => true, () => false)
    net = await natNetUp(['symmetric', 'cone', 'cone', ...(upnpOk ? ['upnp' as const] : [])], 4)
    // The origin is slowed (256 KiB/s) so that a peer reached after a few seconds still has pieces to give.
    const seeder = startCli(['seed', '--store', fixture.store.dir, '--upload-limit', '262144', ...listen], { prefix: net.exec('p1') })
    procs.push(seeder)
    seederId = String((await seeder.waitFor(e => e.event === 'listening', 30_000)).peerId)
    bootstrap = ['--bootstrap', `/ip4/11.0.1.10/tcp/4001/p2p/${seederId}`]
    const supernodes = ['p2', 'p3'].map(ns => start(ns, ['peer', '--role', 'supernode']))
    await Promise.all(supernodes.map(async s => await s.waitFor(e => e.event === 'listening', 30_000)))
  })

  after(async () => {
    await Promise.all(procs.map(async p => await p.stop('SIGTERM', 5000)))
    await net?.down()
    if (fixture != null) await rm(fixture.dir, { recursive: true, force: true })
    if (fixture2 != null) await rm(fixture2.dir, { recursive: true, force: true })
    if (work != null) await rm(work, { recursive: true, force: true })
  })

  it('case 2: a provider behind a symmetric NAT is reached through its relay and dials a public downloader back; a leaf in another home cannot reach it directly and gets the item from the origin; all bytes verified', async () => {
    const provider = await natedProvider('h1a')
    const relayed = provider.proc.events.filter(e => e.event === 'relay:reserved').flatMap(e => e.addrs as string[])
    expect(relayed.length).to.be.at.least(2)
    expect(relayed.every(a => /^\/ip4\/1[23]\.0\.[23]\.10\/tcp\/4001\/p2p\/\w+\/p2p-circuit\/p2p\//.test(a))).to.equal(true)
    const st = await runCli(['status', '--peer', `/ip4/127.0.0.1/tcp/4001/p2p/${provider.peerId}`], { timeoutMs: 30_000, prefix: net!.exec('h1a') })
    expect(st.code, st.stderr).to.equal(0)
    expect(st.stdout).to.match(/relayed by\s+12D3KooW\w+\n\s+12D3KooW\w+/)

    // A public downloader: dialled through the relay, the provider dials it back directly (DCUtR's unilateral upgrade).
    const pub = await get('p4', 'public.bin')
    const fromProvider = bytesFrom(pub, provider.peerId)
    expect(fromProvider, JSON.stringify(pub.bytesBySource)).to.be.greaterThan(0)
    // All of it over direct connections; the provider's own over the one it opened (a reverse connection).
    const kinds = pub.bytesByConnection as Record<string, number>
    expect(kinds.relayed).to.equal(0)
    expect(kinds.direct + kinds.reverse).to.equal(fixture!.data.length)
    expect(kinds.reverse).to.equal(fromProvider)

    // A leaf behind a cone NAT: both behind NATs, TCP cannot punch; it does not wait on the provider, the origin serves it.
    const natted = await get('h2a', 'natted.bin')
    expect(bytesFrom(natted, provider.peerId)).to.equal(0)
    expect((natted.bytesByConnection as Ev).relayed).to.equal(0)
    expect(bytesFrom(natted, seederId)).to.be.greaterThan(0)
  })

  it('case 1: two homes behind port-restricted cone NATs, two leaves each: leaves of one home exchange pieces directly over their LAN; across homes TCP cannot punch, so each home gets from the origin what its own leaves do not hold', async () => {
    const provider = await natedProvider('h2a')
    // Same home: the provider's LAN address is dialled directly.
    const sameHome = await get('h2b', 'h2b.bin')
    expect(bytesFrom(sameHome, provider.peerId), JSON.stringify(sameHome.bytesBySource)).to.be.greaterThan(0)
    expect((sameHome.bytesByConnection as Record<string, number>).relayed).to.equal(0)

    // Other home: only the relay reaches the provider; no direct connection comes (both sides are behind NATs and
    // js-libp2p's TCP dials from ephemeral ports), so the download goes on without it.
    const otherHome = await get('h3a', 'h3a.bin', ['--seed'])
    const lost = otherHome.bytesBySource as Record<string, number>
    expect(bytesFrom(otherHome, provider.peerId), JSON.stringify(lost)).to.equal(0)
    expect(bytesFrom(otherHome, seederId)).to.be.greaterThan(0)
    const h3a = procs[procs.length - 1]
    expect(h3a.events.some(e => e.event === 'source-error' && typeof e.error === 'string' && e.error.includes('only through a relay'))).to.equal(true)

    // Its neighbour then gets pieces from it over their LAN (h2b has left: every other source is h3a).
    const neighbour = await get('h3b', 'h3b.bin')
    const fromNeighbour = fixture!.data.length - bytesFrom(neighbour, seederId) - bytesFrom(neighbour, provider.peerId)
    expect(bytesFrom(neighbour, provider.peerId)).to.equal(0)
    expect(fromNeighbour, JSON.stringify(neighbour.bytesBySource)).to.be.greaterThan(0)
    expect((neighbour.bytesByConnection as Record<string, number>).relayed).to.equal(0)
  })

  it('case 3: a leaf behind a router running miniupnpd maps its port, is confirmed reachable by two verifier networks and announces the mapped address; a leaf behind another NAT downloads from it directly; the forward is removed when it stops', async function () {
    if (!upnpOk) {
      console.log('      skipped: miniupnpd is not installed (apt-get install miniupnpd-nftables)')
      this.skip()
    }
    // An item only this leaf holds: whatever the downloader gets, it gets from it.
    fixture2 = await makeFixture(2 * 1024 * 1024, 256 * 1024, 'upnp.bin')
    const store = join(work!, 'store-h4a')
    await cp(fixture2.store.dir, store, { recursive: true })
    const leaf = start('h4a', ['peer', '--role', 'leaf', '--store', store])
    const leafId = String((await leaf.waitFor(e => e.event === 'listening', 30_000)).peerId)
    const pub = await leaf.waitFor(e => e.event === 'reachability:changed' && e.reachability === 'public', 90_000)
    expect(pub.confirmedAddrs).to.deep.equal(['/ip4/24.0.4.2/tcp/4001'])
    const forwards = async (): Promise<string> => (await run(net!.exec('r4')[0], [...net!.exec('r4').slice(1), 'nft', 'list', 'chain', 'inet', 'filter', 'prerouting_miniupnpd'], { timeout: 10_000 })).stdout
    expect(await forwards()).to.match(/dnat ip to 10\.4\.0\.11:4001/)

    const out = join(work!, 'upnp-h1b.bin')
    // The mapped address reaches the leaf's supernodes with its next keep-alive (sent at once, but a get started in
    // the same moment can still be answered with the relayed address only, and then fails: it has no other source).
    let ev: Record<string, unknown> | undefined
    for (let attempt = 1; ev === undefined; attempt++) {
      const g = start('h1b', ['get', fixture2.manifest.contentId, '-o', out, '--force'])
      try {
        ev = await g.waitFor(done, 120_000)
      } catch (err) {
        if (attempt >= 3 || !/only through a relay/.test((err as Error).message)) throw err
        await new Promise(resolve => setTimeout(resolve, 2000))
      }
    }
    expect(Buffer.from(await readFile(out)).equals(Buffer.from(fixture2.data))).to.equal(true)
    expect(bytesFrom(ev, leafId)).to.equal(fixture2.data.length)
    expect((ev.bytesByConnection as Record<string, number>).direct).to.equal(fixture2.data.length)
    // Reservations it made while the mapping was not yet there lapse with their connections; nothing crossed them.
    expect((ev.bytesByConnection as Record<string, number>).relayed).to.equal(0)

    expect(await leaf.stop('SIGTERM', 10_000)).to.equal(0)
    expect(await forwards()).to.not.match(/dnat/)
  })
})
