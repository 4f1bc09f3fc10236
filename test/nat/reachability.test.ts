import { expect } from 'chai'
import { rm } from 'node:fs/promises'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { natNetUnavailable, natNetUp, type NatNet } from '../helpers/nat-net.js'
import { runCli, startCli, type CliProcess } from '../helpers/run-cli.js'

type Ev = Record<string, unknown>
const reach = (want: string) => (e: Ev): boolean => e.event === 'reachability:changed' && e.reachability === want

describe('nat: reachability behind real NATs (network namespaces)', function () {
  this.timeout(120_000)
  let net: NatNet | undefined
  let fixture: Fixture | undefined
  const procs: CliProcess[] = []

  before(async function () {
    const why = await natNetUnavailable()
    if (why !== undefined) {
      console.log(`      skipped: ${why}`)
      this.skip()
    }
    fixture = await makeFixture(64 * 1024, 16 * 1024)
    // Three public hosts, so that each has two others (two /24s) to confirm it.
    net = await natNetUp(['cone', 'symmetric'], 3)
  })

  after(async () => {
    await Promise.all(procs.map(async p => await p.stop('SIGTERM', 5000)))
    await net?.down()
    if (fixture != null) await rm(fixture.dir, { recursive: true, force: true })
  })

  it('public hosts are confirmed public by two others; leaves behind cone and symmetric NATs learn they are private and say so in status', async () => {
    if (net == null || fixture == null) throw new Error('no network')
    const listen = ['--listen', '/ip4/0.0.0.0/tcp/4001', '--json']
    const seeder = startCli(['seed', '--store', fixture.store.dir, ...listen], { prefix: net.exec('p1') })
    procs.push(seeder)
    const up = await seeder.waitFor(e => e.event === 'listening', 30_000)
    const bootstrap = ['--bootstrap', `/ip4/11.0.1.10/tcp/4001/p2p/${String(up.peerId)}`]
    const supernodes = ['p2', 'p3'].map(ns => startCli(['peer', '--role', 'supernode', ...listen, ...bootstrap], { prefix: net!.exec(ns) }))
    procs.push(...supernodes)
    await Promise.all(supernodes.map(async s => await s.waitFor(e => e.event === 'listening', 30_000)))
    const leaves = ['h1a', 'h2a'].map(ns => startCli(['peer', ...listen, ...bootstrap], { prefix: net!.exec(ns) }))
    procs.push(...leaves)

    // A supernode is dialled back by the seeder and the other supernode: two networks.
    const pub = await supernodes[0].waitFor(reach('public'), 60_000)
    expect(pub.confirmedAddrs).to.deep.equal(['/ip4/12.0.2.10/tcp/4001'])
    // Behind either NAT, the verifiers saw the router's address; dialling it back fails.
    const cone = await leaves[0].waitFor(reach('private'), 60_000)
    expect(cone.refutedAddrs).to.deep.equal(['/ip4/21.0.1.2/tcp/4001'])
    expect(cone.verifierNetworks).to.be.at.least(2)
    const sym = await leaves[1].waitFor(reach('private'), 60_000)
    expect(sym.refutedAddrs).to.deep.equal(['/ip4/22.0.2.2/tcp/4001'])
    expect(leaves.every(l => l.events.every(e => !(e.event === 'reachability:changed' && e.reachability === 'public')))).to.equal(true)

    // `status` from the leaf's own host (the status protocol answers only the local machine).
    const leafId = String(leaves[0].events.find(e => e.event === 'listening')?.peerId)
    const st = await runCli(['status', '--peer', `/ip4/127.0.0.1/tcp/4001/p2p/${leafId}`], { timeoutMs: 30_000, prefix: net.exec('h1a') })
    expect(st.code, st.stderr).to.equal(0)
    expect(st.stdout).to.match(/reachability\s+private \(\d verifier network\(s\)\)/)
    expect(st.stdout).to.match(/role\s+leaf/)
  })
})
