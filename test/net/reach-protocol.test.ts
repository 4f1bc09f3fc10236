import { expect } from 'chai'
import { createSwarmNode, type SwarmNode } from '../../src/net/swarm-node.js'
import { askReach, registerReachServer, tcpEndpoint } from '../../src/net/reach-protocol.js'

describe('net/reach-protocol', () => {
  const nodes: SwarmNode[] = []
  // Each node on its own 127.N address and dialling from it (the loopback network model).
  const node = async (ip: string): Promise<SwarmNode> => { const n = await createSwarmNode({ listenMultiaddrs: [`/ip4/${ip}/tcp/0`] }); nodes.push(n); return n }
  afterEach(async () => { await Promise.all(nodes.splice(0).map(async n => await n.stop())) })

  it('dials the asker back on its own listen address, and never an address on another IP', async () => {
    const verifier = await node('127.31.0.1')
    const asker = await node('127.32.0.1')
    await registerReachServer(verifier, () => true, { dialTimeoutMs: 3000 })
    const own = asker.getMultiaddrs()[0].toString().replace(/\/p2p\/.*$/, '')
    const elsewhere = '/ip4/127.33.0.1/tcp/9'
    const closed = `/ip4/127.32.0.1/tcp/${(tcpEndpoint(own)?.port ?? 1) === 1 ? 2 : 1}`
    const conn = await asker.dial(verifier.getMultiaddrs()[0], { signal: AbortSignal.timeout(10_000) })
    const results = await askReach(conn, [own, elsewhere, closed], { timeoutMs: 20_000 })
    expect(results).to.deep.equal([{ addr: own, dialable: true }, { addr: closed, dialable: false }])
  })

  it('refuses when the node does not verify (a leaf)', async () => {
    const verifier = await node('127.34.0.1')
    const asker = await node('127.35.0.1')
    await registerReachServer(verifier, () => false)
    const conn = await asker.dial(verifier.getMultiaddrs()[0], { signal: AbortSignal.timeout(10_000) })
    const own = asker.getMultiaddrs()[0].toString().replace(/\/p2p\/.*$/, '')
    let failed = false
    await askReach(conn, [own], { timeoutMs: 10_000 }).catch(() => { failed = true })
    expect(failed).to.equal(true)
  })
})
