import { expect } from 'chai'
import { fileURLToPath } from 'node:url'
import { startSwarmPeer, type SwarmPeer } from '../../src/client/swarm-peer.js'
import { readAltoFiles } from '../../src/client/alto-files.js'
import { AsnResolver } from '../../src/core/proximity/asn-resolver.js'
import { loadPrefixTableFiles } from '../../src/client/prefix-table-files.js'
import { runCli } from '../helpers/run-cli.js'

const fixture = (name: string): string => fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url))

describe('client: ALTO maps of the loopback test ASes in a swarm peer\'s ranking', function () {
  this.timeout(30_000)
  let peer: SwarmPeer | undefined
  after(async () => { await peer?.stop() })

  it('orders providers in other ASes by the ISP\'s cost, and providers ranked for another peer by that peer\'s costs', async () => {
    const alto = await readAltoFiles(fixture('loopback-alto-networkmap.json'), fixture('loopback-alto-costmap.json'))
    peer = await startSwarmPeer({ listenMultiaddrs: ['/ip4/127.1.0.1/tcp/0'], selfAddress: '127.1.0.1', asnResolver: new AsnResolver(loadPrefixTableFiles([fixture('loopback-as.csv')])), alto })
    const providers = [
      { peerId: 'peerB', addr: '/ip4/127.2.0.1/tcp/4001' },
      { peerId: 'peerC', addr: '/ip4/127.3.0.1/tcp/4001' },
      { peerId: 'peerD', addr: '/ip4/127.4.0.1/tcp/4001' }
    ]
    // 127.2 and 127.3 share 14 bits with 127.1, 127.4 only 13: the cost orders C (2) before B (10) and never lifts D (5) over them.
    expect(peer.ranker.rank(providers, p => p).map(p => p.peerId)).to.deep.equal(['peerC', 'peerB', 'peerD'])
    // From pid-b's side (a requester at 127.2.0.9), pid-a and pid-c cost 10 each and pid-d has no cost: D goes last.
    const fromB = peer.ranker.place('requester', '/ip4/127.2.0.9/tcp/1')
    expect(peer.ranker.rankFrom(fromB, providers, p => p).map(p => p.peerId).pop()).to.equal('peerD')
  })

  it('get refuses maps that do not belong together with one clear line', async () => {
    const r = await runCli(['get', 'bafkreicbv4hzmfzjan7kkz3xh3w3cxfuonqpyd3plrehe2haztp6afiaay', '--peer', '/ip4/127.0.0.1/tcp/1', '-o', '/tmp/x-alto', '--alto-network-map', fixture('loopback-alto-networkmap.json')])
    expect(r.code).to.equal(1)
    expect(r.stderr).to.match(/--alto-network-map and --alto-cost-map go together/)
    const bad = await runCli(['get', 'bafkreicbv4hzmfzjan7kkz3xh3w3cxfuonqpyd3plrehe2haztp6afiaay', '--peer', '/ip4/127.0.0.1/tcp/1', '-o', '/tmp/x-alto', '--alto-network-map', fixture('loopback-alto-costmap.json'), '--alto-cost-map', fixture('loopback-alto-costmap.json')])
    expect(bad.code).to.equal(1)
    expect(bad.stderr).to.match(/^swarmcdn: ALTO maps .* the network map's meta.vtag is not a JSON object\n$/)
  })
})
