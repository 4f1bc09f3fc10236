import { expect } from 'chai'
import { createServer, connect, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { createSwarmNode, type SwarmNode } from '../../src/net/swarm-node.js'
import { DhtRpc, DhtRpcError } from '../../src/net/dht-rpc.js'
import { keyOfPeerId, type DhtFrameContent } from '../../src/net/dht-codec.js'
import type { Contact } from '../../src/core/dht/contact.js'
import { waitFor } from '../helpers/wait-for.js'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** A TCP relay to `target` that holds every new connection for `holdMs` before it forwards a byte (a slow path). */
async function slowPath (target: { host: string, port: number }, holdMs: number): Promise<{ server: Server, port: number, sockets: Set<Socket> }> {
  const sockets = new Set<Socket>()
  const server = createServer(inbound => {
    sockets.add(inbound)
    inbound.once('close', () => sockets.delete(inbound))
    setTimeout(() => {
      if (inbound.destroyed) return
      const outbound = connect(target.port, target.host)
      sockets.add(outbound)
      outbound.once('close', () => { sockets.delete(outbound); inbound.destroy() })
      inbound.once('close', () => outbound.destroy())
      outbound.on('error', () => inbound.destroy())
      inbound.on('error', () => outbound.destroy())
      inbound.pipe(outbound).pipe(inbound)
    }, holdMs)
  })
  await new Promise<void>(resolve => server.listen(0, '127.3.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port, sockets }
}

describe('net/dht-rpc', function () {
  this.timeout(30_000)

  it('keeps setting up a connection after a request timed out on it, so the next request is answered', async () => {
    const nodes: SwarmNode[] = []
    let path: Awaited<ReturnType<typeof slowPath>> | undefined
    try {
      const asker = await createSwarmNode({ listenMultiaddrs: ['/ip4/127.1.0.1/tcp/0'] })
      nodes.push(asker)
      const answerer = await createSwarmNode({ listenMultiaddrs: ['/ip4/127.2.0.1/tcp/0'] })
      nodes.push(answerer)
      const frame = (requestId: number, type: 'ping' | 'pong'): DhtFrameContent => ({ message: { type, requestId }, senderRole: 'supernode', senderAddrs: [] })
      const server = new DhtRpc(answerer, { onRequest: async (_peer, req) => frame(req.message.requestId, 'pong'), onViolation: () => {} })
      await server.listen()
      const client = new DhtRpc(asker, { onRequest: async () => undefined, onViolation: () => {} })
      const port = Number(/\/tcp\/(\d+)/.exec(answerer.getMultiaddrs()[0].toString())?.[1])
      // Connection set-up through this path takes 1.5 s; one request may wait 500 ms.
      path = await slowPath({ host: '127.2.0.1', port }, 1500)
      const to: Contact = { id: keyOfPeerId(answerer.peerId.toString()), peerId: answerer.peerId.toString(), addrs: [`/ip4/127.3.0.1/tcp/${path.port}/p2p/${answerer.peerId.toString()}`] }

      let failure: unknown
      try { await client.request(to, frame(1, 'ping'), { timeoutMs: 500 }) } catch (err) { failure = err }
      expect(failure).to.be.instanceOf(DhtRpcError)
      // The dial the request started goes on without it and connects.
      await waitFor('the connection the timed-out request started', () => asker.getConnections(answerer.peerId).length > 0, 15_000)
      const answer = await client.request(to, frame(2, 'ping'), { timeoutMs: 500 })
      expect(answer.message).to.deep.equal({ type: 'pong', requestId: 2 })
      await client.stop()
      await server.stop()
    } finally {
      for (const s of path?.sockets ?? []) s.destroy()
      path?.server.close()
      await Promise.allSettled(nodes.map(async n => { await n.stop() }))
    }
  })

  it('counts an answer that arrived in time while the event loop stalled past the deadline', async () => {
    // The answerer runs in its own process, so it answers while this one is stalled.
    const child = spawn(process.execPath, [fileURLToPath(new URL('../helpers/dht-answerer.js', import.meta.url)), '150'], { stdio: ['pipe', 'pipe', 'inherit'] })
    const lines = createInterface({ input: child.stdout })
    const events: Array<Record<string, unknown>> = []
    const waiters: Array<() => void> = []
    lines.on('line', line => { events.push(JSON.parse(line) as Record<string, unknown>); for (const w of waiters.splice(0)) w() })
    const next = async (pred: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> => {
      const deadline = Date.now() + 20_000
      for (;;) {
        const hit = events.find(pred)
        if (hit != null) return hit
        if (Date.now() > deadline) throw new Error('the answerer process said nothing')
        await new Promise<void>(resolve => { waiters.push(resolve); setTimeout(resolve, 200) })
      }
    }
    let asker: SwarmNode | undefined
    try {
      const addr = String((await next(e => e.event === 'listening')).addr)
      asker = await createSwarmNode({ listenMultiaddrs: ['/ip4/127.1.0.2/tcp/0'] })
      const client = new DhtRpc(asker, { onRequest: async () => undefined, onViolation: () => {} })
      const peerId = addr.split('/p2p/')[1]
      const to: Contact = { id: keyOfPeerId(peerId), peerId, addrs: [addr] }
      const ping = (requestId: number): DhtFrameContent => ({ message: { type: 'ping', requestId }, senderRole: 'leaf', senderAddrs: [] })
      // Connected first, so the request below is on the wire within a few ms.
      await client.request(to, ping(1), { timeoutMs: 10_000 })
      let checked = false
      for (let requestId = 2; requestId <= 6 && !checked; requestId++) {
        // Deadline 500 ms; the answer comes ~150 ms after the request; this process is busy from 100 ms to 1500 ms.
        const t0 = Date.now()
        const outcome = client.request(to, ping(requestId), { timeoutMs: 500 }).then(r => r.message, (err: Error) => err)
        // The stall runs from setImmediate, as work after I/O does: the loop's next step is its timers, then I/O.
        setTimeout(() => { setImmediate(() => { while (Date.now() < t0 + 1500) { /* a stalled event loop */ } }) }, 100)
        const result = await outcome
        const answered = await next(e => e.event === 'answer' && e.requestId === requestId)
        // Only a trial whose answer was sent during the stall tests anything (on a loaded machine the request may leave late).
        if (Number(answered.answeredAtMs) > t0 + 1400) continue
        expect(result).to.deep.equal({ type: 'pong', requestId })
        checked = true
      }
      expect(checked, 'no trial had its answer sent during the stall').to.equal(true)
      await client.stop()
    } finally {
      child.stdin.end()
      await new Promise(resolve => { if (child.exitCode !== null) resolve(undefined); else { child.once('exit', resolve); setTimeout(() => { child.kill('SIGKILL') }, 5000).unref() } })
      await asker?.stop()
    }
  })
})
