import { expect } from 'chai'
import { fileURLToPath } from 'node:url'
import { startSwarmPeer, type SwarmPeer } from '../../src/client/swarm-peer.js'
import { createSwarmNode, type SwarmNode } from '../../src/net/swarm-node.js'
import { AsnResolver } from '../../src/core/proximity/asn-resolver.js'
import { loadPrefixTableFiles } from '../../src/client/prefix-table-files.js'
import { chooseSelfAddress } from '../../src/core/proximity/public-address.js'
import { formatIpAddress } from '../../src/core/proximity/ip-address.js'
import { waitFor } from '../helpers/wait-for.js'

const TABLE = fileURLToPath(new URL('../../../test/fixtures/loopback-as.csv', import.meta.url))

describe('core/proximity chooseSelfAddress', () => {
  const text = (a: ReturnType<typeof chooseSelfAddress>): string | undefined => a != null ? formatIpAddress(a) : undefined
  it('prefers --public-ip, then what others observe (not 127.0.0.1), then the listen address', () => {
    const listen = ['/ip4/127.0.0.1/tcp/4001', '/ip4/10.0.0.5/tcp/4001']
    expect(text(chooseSelfAddress({ overrideIp: '203.0.113.7', observedMultiaddrs: ['/ip4/127.4.0.1/tcp/5'], listenMultiaddrs: listen }))).to.equal('203.0.113.7')
    expect(text(chooseSelfAddress({ observedMultiaddrs: ['/ip4/127.4.0.1/tcp/5', '/ip4/127.0.0.1/tcp/6'], listenMultiaddrs: listen }))).to.equal('127.4.0.1')
    expect(text(chooseSelfAddress({ observedMultiaddrs: ['/ip4/127.0.0.1/tcp/6'], listenMultiaddrs: listen }))).to.equal('10.0.0.5')
    expect(text(chooseSelfAddress({ observedMultiaddrs: ['/ip4/127.4.0.1/tcp/5', '/ip4/198.51.100.2/tcp/9'], listenMultiaddrs: listen }))).to.equal('198.51.100.2')
  })
})

describe('client/self-address: the swarm ranker follows identify (loopback)', function () {
  this.timeout(30_000)
  const resolver = new AsnResolver(loadPrefixTableFiles([TABLE]))
  const stops: Array<() => Promise<void>> = []
  afterEach(async () => { for (const s of stops.splice(0).reverse()) await s() })

  async function swarm (init: Parameters<typeof startSwarmPeer>[0]): Promise<SwarmPeer> {
    const p = await startSwarmPeer({ asnResolver: resolver, ...init })
    stops.push(p.stop)
    return p
  }
  /** A node that listens on 127.0.0.1 (says nothing) but whose dials leave from `dialFrom`: others see it there, it does not know. */
  async function hiddenNode (dialFrom: string): Promise<SwarmNode> {
    const node = await createSwarmNode({ listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'], dialLocalAddress: dialFrom })
    stops.push(async () => { await node.stop() })
    return node
  }

  it('learns its 127.N address from identify without --public-ip, and then ranks its own AS first', async () => {
    const far = await swarm({ listenMultiaddrs: ['/ip4/127.1.0.1/tcp/0'] })
    const near = await swarm({ listenMultiaddrs: ['/ip4/127.4.0.2/tcp/0'] })
    const me = await swarm({ node: await hiddenNode('127.4.0.1') })
    const where = (p: SwarmPeer): { peerId: string, addr: string } => ({ peerId: p.peerId, addr: p.multiaddrs[0] })
    expect(me.ranker.self.asn).to.equal(64600) // 127.0.0.1: its listen address
    expect(me.ranker.sameAs(me.ranker.place(near.peerId, near.multiaddrs[0]))).to.equal(false)

    await me.node.dial(far.node.getMultiaddrs()[0])
    await waitFor('identify to report the observed address', () => me.ranker.self.asn === 64604, 10_000, 25)
    expect(me.ranker.self.address != null ? formatIpAddress(me.ranker.self.address) : undefined).to.equal('127.4.0.1')
    expect(me.ranker.sameAs(me.ranker.place(near.peerId, near.multiaddrs[0]))).to.equal(true)
    expect(me.ranker.rank([far, near], where)[0]).to.equal(near)
  })

  it('keeps --public-ip whatever identify reports', async () => {
    const far = await swarm({ listenMultiaddrs: ['/ip4/127.1.0.1/tcp/0'] })
    const me = await swarm({ node: await hiddenNode('127.4.0.1'), selfAddress: '127.2.0.9' })
    await me.node.dial(far.node.getMultiaddrs()[0])
    await waitFor('the connection to be identified', () => me.node.getPeers().length > 0, 10_000, 25)
    await new Promise(resolve => setTimeout(resolve, 300))
    expect(me.ranker.self.asn).to.equal(64602)
  })
})
