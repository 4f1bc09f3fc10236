/**
 * Bad actors for the NAT tests (test/nat/bad-actors.test.ts), run as a
 * process inside a namespace of scripts/nat-net.sh (never outside: their
 * traffic goes only to the test network's addresses). Each prints JSON
 * lines on stdout for the test to wait on, and stops on SIGTERM.
 *
 *   nat-attacker.js lying-verifier FAKE_IP
 *     A public peer that looks like a verifier (it speaks the DHT protocol
 *     and AutoNAT v2): identify tells every peer it sees it from FAKE_IP,
 *     and it answers every dial-back request "dialed, reachable" without
 *     dialling. Every 2 s it reads the addresses its peers announce.
 *   nat-attacker.js reservation-flood RELAY_ADDR COUNT
 *     COUNT fresh identities from this one host each ask RELAY_ADDR
 *     (`.../p2p/RELAY`) for a circuit relay v2 reservation, one after the
 *     other, and keep what they got.
 *   nat-attacker.js dropping-relay BOOTSTRAP
 *     A real swarmcdn supernode (startPeer) whose circuit relay v2 server
 *     grants reservations but black-holes every relayed connection: a
 *     CONNECT is never answered until libp2p's hop timeout.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { Connection, Stream } from '@libp2p/interface'
import { createSwarmNode, type SwarmNode } from '../../src/net/swarm-node.js'
import { startPeer } from '../../src/client/peer.js'
import { DHT_PROTOCOL } from '../../src/net/protocol-ids.js'
import { AUTONAT_DIAL_REQUEST_PROTOCOL } from '../../src/net/autonat-client.js'
import { FramedStream } from '../../src/net/framed-stream.js'
import { AutoNatDialResponse, AutoNatDialStatus, AutoNatMessage } from '../../src/net/autonat-v2-pb.js'

const IDENTIFY_PROTOCOL = '/ipfs/id/1.0.0'
const LISTEN = ['/ip4/0.0.0.0/tcp/4001']
/** Time one flood identity may take to reserve, ms. */
const FLOOD_RESERVE_TIMEOUT_MS = 10_000

const say = (e: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(e) + '\n') }
const stopped = async (): Promise<void> => await new Promise(resolve => { process.once('SIGTERM', () => { resolve() }); process.once('SIGINT', () => { resolve() }) })

async function lyingVerifier (fakeIp: string): Promise<void> {
  const node = await createSwarmNode({ listenMultiaddrs: LISTEN })
  // Looks like a DHT member to the overlay (which asks only members to verify); it never answers a request.
  const held: Stream[] = []
  await node.handle(DHT_PROTOCOL, (stream: Stream) => { if (held.length < 64) held.push(stream); else stream.abort(new Error('busy')) })
  const identify = node.services.identify as unknown as { handleProtocol: (s: Stream, c: Pick<Connection, 'remoteAddr'>) => Promise<void> }
  await node.unhandle(IDENTIFY_PROTOCOL)
  await node.handle(IDENTIFY_PROTOCOL, (stream: Stream) => {
    void identify.handleProtocol(stream, { remoteAddr: multiaddr(`/ip4/${fakeIp}/tcp/4001`) }).catch(() => {})
  })
  await node.unhandle(AUTONAT_DIAL_REQUEST_PROTOCOL)
  await node.handle(AUTONAT_DIAL_REQUEST_PROTOCOL, (stream: Stream, connection: Connection) => {
    void (async () => {
      const framed = new FramedStream(stream, { maxFrameBytes: 8192, frameTimeoutMs: 10_000 })
      const signal = AbortSignal.timeout(10_000)
      const frame = await framed.read(signal)
      if (frame == null) return
      const m = AutoNatMessage.decode(frame)
      const addrs = (m.dialRequest?.addrs ?? []).map(b => multiaddr(b).toString())
      await framed.write(AutoNatMessage.encode({ dialResponse: { status: AutoNatDialResponse.ResponseStatus.OK, addrIdx: 0, dialStatus: AutoNatDialStatus.OK } }), signal)
      say({ event: 'lied', to: connection.remotePeer.toString(), addr: addrs[0] })
      await framed.close(signal)
    })().catch(() => { stream.abort(new Error('lying verifier failed')) })
  })
  say({ event: 'listening', peerId: node.peerId.toString() })
  const seen = new Map<string, string>()
  const timer = setInterval(() => {
    for (const c of node.getConnections()) {
      void node.services.identify.identify(c, { signal: AbortSignal.timeout(5000) }).then(r => {
        const addrs = r.listenAddrs.map(a => a.toString()).sort()
        const key = JSON.stringify(addrs)
        if (seen.get(r.peerId.toString()) === key) return
        seen.set(r.peerId.toString(), key)
        say({ event: 'peer-addrs', peerId: r.peerId.toString(), addrs })
      }, () => {})
    }
  }, 2000)
  await stopped()
  clearInterval(timer)
  await node.stop()
}

async function reservationFlood (relayAddr: string, count: number): Promise<void> {
  const nodes: SwarmNode[] = []
  let granted = 0
  let refused = 0
  const stop = stopped()
  for (let i = 0; i < count; i++) {
    const node = await createSwarmNode({ listenMultiaddrs: [] })
    nodes.push(node)
    const tm = (node as unknown as { components: { transportManager: { listen: (a: unknown[]) => Promise<void> } } }).components.transportManager
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        tm.listen([multiaddr(`${relayAddr}/p2p-circuit`)]),
        new Promise((_resolve, reject) => { timer = setTimeout(() => { reject(new Error('timeout')) }, FLOOD_RESERVE_TIMEOUT_MS) })
      ])
      granted++
      say({ event: 'reservation', i, ok: true })
    } catch (err) {
      refused++
      say({ event: 'reservation', i, ok: false, message: (err as Error).message })
    } finally { clearTimeout(timer) }
  }
  say({ event: 'flood-done', granted, refused })
  await stop
  await Promise.all(nodes.map(async n => { try { await n.stop() } catch {} }))
}

async function droppingRelay (bootstrap: string): Promise<void> {
  const peer = await startPeer({ role: 'supernode', listenMultiaddrs: LISTEN, bootstrap: [bootstrap], relay: {} })
  const relay = (peer.node.services as unknown as { relay: { handleConnect: (a: { connection: Connection }, o: { signal: AbortSignal }) => Promise<void> } }).relay
  let dropped = 0
  // The hop stream is left unanswered until libp2p's hop timeout (30 s) closes it.
  relay.handleConnect = async ({ connection }, options) => {
    say({ event: 'connect-dropped', from: connection.remotePeer.toString(), n: ++dropped })
    await new Promise(resolve => { options.signal.addEventListener('abort', resolve, { once: true }) })
    throw new Error('dropped')
  }
  say({ event: 'listening', peerId: peer.peerId })
  await stopped()
  await peer.stop()
}

const [mode, ...args] = process.argv.slice(2)
const main = mode === 'lying-verifier'
  ? lyingVerifier(args[0])
  : mode === 'reservation-flood'
    ? reservationFlood(args[0], Number(args[1]))
    : mode === 'dropping-relay' ? droppingRelay(args[0]) : Promise.reject(new Error(`unknown mode ${mode}`))
main.then(() => process.exit(0), (err: Error) => { process.stderr.write(`nat-attacker: ${err.stack ?? err.message}\n`); process.exit(1) })
