/**
 * A DHT member in a process of its own (test only): answers every ping
 * with a pong `delayMs` later (argv[2], default 0) and prints one JSON line
 * per request with when it came and when it was answered, so a test can
 * stall its own event loop while an answer is on its way. Listens on
 * 127.2.0.2; prints `{"event":"listening","addr":...}`; exits when stdin
 * closes.
 */
import { createSwarmNode } from '../../src/net/swarm-node.js'
import { DhtRpc } from '../../src/net/dht-rpc.js'

const delayMs = Number(process.argv[2] ?? 0)
const node = await createSwarmNode({ listenMultiaddrs: ['/ip4/127.2.0.2/tcp/0'] })
const rpc = new DhtRpc(node, {
  onRequest: async (_peer, req) => {
    const receivedAtMs = Date.now()
    await new Promise(resolve => setTimeout(resolve, delayMs))
    console.log(JSON.stringify({ event: 'answer', requestId: req.message.requestId, receivedAtMs, answeredAtMs: Date.now() }))
    return { message: { type: 'pong', requestId: req.message.requestId }, senderRole: 'supernode', senderAddrs: [] }
  },
  onViolation: () => {}
})
await rpc.listen()
console.log(JSON.stringify({ event: 'listening', addr: node.getMultiaddrs()[0].toString() }))
process.stdin.resume()
process.stdin.once('end', () => { void rpc.stop().then(async () => { await node.stop() }).finally(() => process.exit(0)) })
