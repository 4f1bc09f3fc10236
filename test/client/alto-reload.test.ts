import { expect } from 'chai'
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startSwarmPeer, type SwarmPeer } from '../../src/client/swarm-peer.js'
import { readAltoFiles, watchAltoFiles } from '../../src/client/alto-files.js'
import { AsnResolver } from '../../src/core/proximity/asn-resolver.js'
import { loadPrefixTableFiles } from '../../src/client/prefix-table-files.js'

const fixture = (name: string): string => fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url))

/** Waits until `check` holds, polling every 20 ms, for at most `timeoutMs`. */
async function until (check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

describe('client: ALTO maps reload into a running swarm peer\'s ranking', function () {
  this.timeout(30_000)
  let peer: SwarmPeer | undefined
  let dir: string
  let stop: (() => void) | undefined
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'swarmcdn-alto-')) })
  after(async () => { stop?.(); await peer?.stop(); await rm(dir, { recursive: true, force: true }) })

  it('ranks by the new costs after the cost map file changes, and keeps them when the next file is broken or of another network map', async () => {
    const nm = join(dir, 'network.json')
    const cm = join(dir, 'cost.json')
    await copyFile(fixture('loopback-alto-networkmap.json'), nm)
    await copyFile(fixture('loopback-alto-costmap.json'), cm)
    const alto = await readAltoFiles(nm, cm)
    peer = await startSwarmPeer({ listenMultiaddrs: ['/ip4/127.1.0.1/tcp/0'], selfAddress: '127.1.0.1', asnResolver: new AsnResolver(loadPrefixTableFiles([fixture('loopback-as.csv')])), alto })
    const reloads: string[] = []
    const errors: Error[] = []
    stop = watchAltoFiles(alto, nm, cm, { pollMs: 50, onReload: ({ reason }) => reloads.push(reason), onError: err => errors.push(err) })
    const providers = [
      { peerId: 'peerB', addr: '/ip4/127.2.0.1/tcp/4001' },
      { peerId: 'peerC', addr: '/ip4/127.3.0.1/tcp/4001' },
      { peerId: 'peerD', addr: '/ip4/127.4.0.1/tcp/4001' }
    ]
    const order = (): string[] => peer?.ranker.rank(providers, p => p).map(p => p.peerId) ?? []
    expect(order()).to.deep.equal(['peerC', 'peerB', 'peerD'])
    // The ISP's new costs from pid-a: B cheaper than C now.
    const costs = JSON.parse(await readFile(cm, 'utf8')) as { 'cost-map': Record<string, Record<string, number>> }
    costs['cost-map']['pid-a'] = { 'pid-a': 1, 'pid-b': 2, 'pid-c': 10, 'pid-d': 5 }
    await writeFile(cm, JSON.stringify(costs))
    await until(() => reloads.length === 1, 10_000, 'the reload')
    expect(reloads).to.deep.equal(['file-changed'])
    expect(order()).to.deep.equal(['peerB', 'peerC', 'peerD'])
    // A half-written file: refused, the maps in use stay.
    await writeFile(cm, '{ "meta": ')
    await until(() => errors.length === 1, 10_000, 'the refusal')
    expect(errors[0].name).to.equal('AltoMapError')
    expect(errors[0].message).to.match(/cost\.json is not JSON/)
    expect(order()).to.deep.equal(['peerB', 'peerC', 'peerD'])
    // A cost map computed for another version of the network map: refused too.
    const stale = { ...costs, meta: { ...(costs as unknown as { meta: Record<string, unknown> }).meta, 'dependent-vtags': [{ 'resource-id': 'loopback-network-map', tag: 'an-older-tag' }] } }
    await writeFile(cm, JSON.stringify(stale))
    await until(() => errors.length === 2, 10_000, 'the second refusal')
    expect(errors[1].message).to.match(/computed for network map loopback-network-map tag an-older-tag/)
    expect(order()).to.deep.equal(['peerB', 'peerC', 'peerD'])
    expect(reloads).to.have.length(1)
  })
})
