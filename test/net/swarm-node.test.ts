import { expect } from 'chai'
import { createSwarmNode, loopbackDialAddress } from '../../src/net/swarm-node.js'

describe('net/swarm-node', () => {
  it('dials from its 127.N listen address so peers see its modeled network, and leaves other setups to the OS', () => {
    expect(loopbackDialAddress(['/ip4/127.2.0.3/tcp/0'])).to.equal('127.2.0.3')
    expect(loopbackDialAddress(['/ip4/127.0.0.1/tcp/0'])).to.equal(undefined)
    expect(loopbackDialAddress(['/ip4/0.0.0.0/tcp/4001'])).to.equal(undefined)
    expect(loopbackDialAddress(['/ip4/127.2.0.3/tcp/0', '/ip4/127.3.0.3/tcp/0'])).to.equal(undefined)
  })

  it('an inbound connection from a node on 127.2.0.1 comes from 127.2.0.1, not 127.0.0.1', async function () {
    this.timeout(10_000)
    const a = await createSwarmNode({ listenMultiaddrs: ['/ip4/127.1.0.1/tcp/0'] })
    const b = await createSwarmNode({ listenMultiaddrs: ['/ip4/127.2.0.1/tcp/0'] })
    try {
      await b.dial(a.getMultiaddrs()[0], { signal: AbortSignal.timeout(5_000) })
      // The listener registers the inbound connection after its upgrade finishes: bounded wait.
      const deadline = Date.now() + 3_000
      while (a.getConnections(b.peerId).length === 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
      const inbound = a.getConnections(b.peerId)
      expect(inbound).to.have.length.greaterThan(0)
      expect(inbound[0].remoteAddr.toString()).to.match(/^\/ip4\/127\.2\.0\.1\/tcp\//)
    } finally {
      await a.stop()
      await b.stop()
    }
  })
})
