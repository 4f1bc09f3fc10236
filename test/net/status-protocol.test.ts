import { expect } from 'chai'
import { createSwarmNode, type SwarmNode } from '../../src/net/swarm-node.js'
import { fetchStatus, registerStatusProtocol } from '../../src/net/status-protocol.js'

describe('net/status-protocol: who may read a peer\'s status', function () {
  this.timeout(30_000)
  const nodes: SwarmNode[] = []
  afterEach(async () => { for (const n of nodes.splice(0)) { try { await n.stop() } catch {} } })
  const node = async (): Promise<SwarmNode> => { const n = await createSwarmNode({ listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'] }); nodes.push(n); return n }

  it('answers the local machine by default', async () => {
    const server = await node()
    await registerStatusProtocol(server, () => ({ items: 3 }))
    expect(await fetchStatus(await node(), server.getMultiaddrs()[0], { timeoutMs: 5000 })).to.deep.equal({ items: 3 })
  })

  it('answers an allowed peer id and resets anyone else when local dialers are not trusted', async () => {
    const server = await node()
    const friend = await node()
    const stranger = await node()
    await registerStatusProtocol(server, () => ({ items: 3 }), { allowLoopback: false, allowPeerIds: [friend.peerId.toString()] })
    const addr = server.getMultiaddrs()[0]
    expect(await fetchStatus(friend, addr, { timeoutMs: 5000 })).to.deep.equal({ items: 3 })
    let refused: unknown
    try { await fetchStatus(stranger, addr, { timeoutMs: 5000 }) } catch (err) { refused = err }
    expect(refused, 'a stranger got the status').to.be.instanceOf(Error)
  })
})
