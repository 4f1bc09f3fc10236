/**
 * The one place libp2p is configured: TCP, Noise, yamux, identify, and for
 * peers behind NATs the circuit relay v2 transport, DCUtR and AutoNAT v2
 * (plus a relay server when asked). Every swarmcdn process (seeder,
 * downloader, benchmark) builds its node here so transport and security
 * choices change in one file.
 */
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp, type TCPSocketOptions } from '@libp2p/tcp'
import { noiseCrypto } from './noise-crypto.js'
import { noiseEncrypter } from './noise-encrypter.js'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify, type Identify } from '@libp2p/identify'
import type { PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { OffenderGuard, setOffenderGuard } from './offender-guard.js'
import type { OffenseLedgerInit } from '../core/abuse/offense-ledger.js'
import type { Registry } from 'prom-client'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { dcutr } from '@libp2p/dcutr'
import { autoNATv2 } from '@libp2p/autonat-v2'
import { RelayGate, relayServerService, resolveRelayServerInit, setRelayGate, type RelayServerInit } from './relay-server.js'

/** Options for createSwarmNode. */
export interface SwarmNodeInit {
  /** Multiaddrs to listen on, e.g. `/ip4/127.0.0.1/tcp/0`. Default: none (dial only). */
  listenMultiaddrs?: string[]
  /** libp2p private key for a stable peer id. Default: a fresh Ed25519 key. */
  privateKey?: PrivateKey
  /** Largest yamux receive window per stream, in bytes: caps what one stream can have in flight. Default 16 MiB. */
  maxStreamWindowBytes?: number
  /**
   * Inbound connections accepted per second from one host before libp2p
   * resets the rest. Default 100: libp2p's 5 drops a flash crowd behind one
   * NAT, and on loopback every dial comes from 127.0.0.1.
   */
  inboundConnectionsPerSecPerHost?: number
  /** Inbound connections still in the Noise/yamux upgrade at once. Default libp2p's 10. */
  maxIncomingPendingConnections?: number
  /**
   * Source IP of outbound TCP dials. Default: the listen address when the
   * node listens on exactly one 127.x.y.z address other than 127.0.0.1
   * (the loopback network model: without it every dial leaves from
   * 127.0.0.1, so an uploader places every requester in 127.0.0.1's AS and
   * near-first slots and requester ranking see nobody as near); otherwise
   * the OS's choice.
   */
  dialLocalAddress?: string
  /** Offender policy limits of the node (see core/abuse/offense-ledger.ts; change later with offenderGuardOf(node).configure). Default: 3 offenses in 10 min ban for 10 min. */
  offenders?: OffenseLedgerInit
  /**
   * Collect libp2p's own metrics (bytes per protocol, connections, process
   * CPU and memory) into this prom-client registry. Default: no libp2p
   * metrics (nothing wraps the streams).
   */
  metricsRegistry?: Registry
  /**
   * Run a circuit relay v2 server with these limits (relay-server.ts). It
   * grants reservations only while `relayGateOf(node).open` (the overlay
   * opens it for members). Default: no relay server.
   */
  relayServer?: RelayServerInit
  /**
   * Ask the home router (UPnP IGD, found by SSDP on the LAN) to forward
   * our private listen ports, through `@libp2p/upnp-nat`; the mappings are
   * removed when the node stops. The mapped address is not believed until
   * verifiers dial it back (core/reach). Default false (`peer` and
   * `get --seed` turn it on; `--no-upnp` off). Never when every listen
   * address is a loopback one.
   */
  upnp?: boolean
}

/** The loopback-model dial source for `listen` (see SwarmNodeInit.dialLocalAddress), or undefined. */
export function loopbackDialAddress (listen: readonly string[]): string | undefined {
  if (listen.length !== 1) return undefined
  const m = /^\/ip4\/(127\.\d+\.\d+\.\d+)\/tcp\//.exec(listen[0])
  return m != null && m[1] !== '127.0.0.1' ? m[1] : undefined
}

/** A running libp2p node with identify. */
export type SwarmNode = Libp2p<{ identify: Identify }>

/** Default yamux per-stream window: a few 1 MiB pieces in flight on one stream. */
export const DEFAULT_MAX_STREAM_WINDOW_BYTES = 16 * 1024 * 1024

/** Creates and starts a libp2p node configured for swarmcdn. */
export async function createSwarmNode (init: SwarmNodeInit = {}): Promise<SwarmNode> {
  try {
    return await createNode(init)
  } catch (err) {
    throw listenError(err)
  }
}

/** A listen address that could not be bound (in use, not local, unsupported). */
export class ListenError extends Error {
  override name = 'ListenError'
  code = 'ERR_LISTEN'
}

/**
 * libp2p reports listen failures as one multi-line message with stack
 * traces; keep the address and the first line of each cause.
 */
function listenError (err: unknown): unknown {
  const e = err as { name?: string, message?: string }
  if (e?.name !== 'UnsupportedListenAddressesError' || typeof e.message !== 'string') return err
  const causes = e.message.split('\n').map(l => /^\s*(\/\S+): (?:\w*Error: )?(.*)$/.exec(l)).filter(m => m != null).map(m => `${m[1]}: ${m[2]}`)
  return new ListenError(`could not listen on ${causes.length > 0 ? causes.join('; ') : 'the given addresses'}`, { cause: err })
}

/**
 * libp2p's address manager re-reads our addresses 1 s (a debounce) after a
 * transport's listener closes, and does not cancel that timer on stop: a
 * stopped node kept the process alive for a second, so `get` took over
 * 1 s to exit on SIGTERM. A listener closes during or just after stop, so
 * this service cancels the timer on every such close once stopping began
 * (its handler runs after the address manager's, registered earlier).
 */
function quietStop (): (components: { addressManager: unknown, events: EventTarget }) => { start: () => void, beforeStop: () => void, stop: () => void, afterStop: () => void } {
  return components => {
    let stopping = false
    const cancel = (): void => {
      const am = components.addressManager as { _updatePeerStoreAddresses?: { stop?: () => void } }
      am._updatePeerStoreAddresses?.stop?.()
    }
    components.events.addEventListener('transport:close', () => { if (stopping) cancel() })
    return {
      // libp2p calls beforeStop/afterStop only on services that also have start and stop.
      start: () => {},
      beforeStop: () => { stopping = true },
      stop: () => {},
      afterStop: cancel
    }
  }
}

/**
 * libp2p announces a public listen address only after its AutoNAT
 * confirmed it; until then a host on a public address (a seeder, a
 * supernode) would hand out only its loopback address, and contacts
 * taken in that first second stay in others' routing tables. We announce
 * what we listen on from the start, as on private addresses; whether
 * others can really dial us is the peer core's verdict (core/reach), and
 * libp2p's AutoNAT v2 still withdraws an address it finds undialable.
 */
function announceListenAddresses (node: SwarmNode): void {
  const c = (node as unknown as { components?: { transportManager?: { getAddrs: () => Array<{ toString: () => string }> }, addressManager?: { confirmObservedAddr: (ma: unknown, o: { type: 'transport' }) => void } } }).components
  if (c?.transportManager == null || c.addressManager == null) return
  for (const ma of c.transportManager.getAddrs()) {
    if (!ma.toString().includes('/p2p-circuit')) c.addressManager.confirmObservedAddr(ma, { type: 'transport' })
  }
}

/** Makes libp2p announce `addr` (a plain multiaddr the peer core confirmed dialable: core/reach). */
export function announceAddress (node: SwarmNode, addr: string): void {
  const am = (node as unknown as { components?: { addressManager?: { confirmObservedAddr: (ma: unknown, o?: { type: 'observed' }) => void, getAddressesWithMetadata: () => Array<{ multiaddr: { toString: () => string } }> } } }).components?.addressManager
  if (am == null) return
  try {
    // A listen address or a UPnP mapping is known to libp2p; an address behind a port forwarded by hand is not: add it.
    const known = am.getAddressesWithMetadata().some(a => a.multiaddr.toString() === addr)
    am.confirmObservedAddr(multiaddr(addr), known ? undefined : { type: 'observed' })
  } catch {}
}

async function createNode (init: SwarmNodeInit): Promise<SwarmNode> {
  const localAddress = init.dialLocalAddress ?? loopbackDialAddress(init.listenMultiaddrs ?? [])
  // The gater needs the guard before the node exists; the node is attached to it after.
  const guard = new OffenderGuard(init.offenders)
  const relayInit = init.relayServer != null ? resolveRelayServerInit(init.relayServer) : undefined
  const relayGate = new RelayGate(relayInit?.maxReservationsPerNetwork)
  const relay = relayInit != null ? { relay: relayServerService(relayInit) } : {}
  // Listening on loopback only there is nothing to forward, and no gateway search leaves the machine (tests, demos).
  const beyondLoopback = (init.listenMultiaddrs ?? []).some(a => !/^\/ip4\/127\.|^\/ip6\/::1\//.test(a))
  // UPnP (an XML stack) and Prometheus metrics are loaded only by the nodes
  // that use them: a plain `get` has neither, and their code was a fifth of
  // what it loaded (peak RSS and start-up: docs/BENCHMARKS.md "Client peak RSS").
  const upnp = init.upnp === true && beyondLoopback ? { upnp: (await import('@libp2p/upnp-nat')).uPnPNAT({ autoConfirmAddress: false, portMappingDescription: 'swarmcdn' }) } : {}
  const metrics = init.metricsRegistry != null ? { metrics: (await import('@libp2p/prometheus-metrics')).prometheusMetrics({ registry: init.metricsRegistry }) } : {}
  const node: SwarmNode = await createLibp2p({
    ...(init.privateKey != null ? { privateKey: init.privateKey } : {}),
    ...metrics,
    addresses: { listen: init.listenMultiaddrs ?? [] },
    // The relay transport dials relayed addresses and listens on relays the overlay picks
    // (relay-reservations.ts); it never looks for relays by itself (no `/p2p-circuit` listen address).
    transports: [tcp(localAddress != null ? { dialOpts: { localAddress } as TCPSocketOptions } : {}), circuitRelayTransport({ reservationConcurrency: 2 })],
    // Session keys become KeyObjects once, not per message (noise-crypto.ts says why);
    // a received message is not copied before it is decrypted (noise-encrypter.ts).
    connectionEncrypters: [noiseEncrypter({ crypto: noiseCrypto })],
    streamMuxers: [yamux({
      streamOptions: { maxStreamWindowSize: init.maxStreamWindowBytes ?? DEFAULT_MAX_STREAM_WINDOW_BYTES }
    })],
    // DCUtR upgrades a relayed connection: the side dialled through the relay dials the other's
    // public addresses (a reverse connection), else both try a hole punch (which js-libp2p's TCP
    // cannot do: it dials from ephemeral ports). AutoNAT v2 answers others' reachability checks.
    services: { identify: identify(), quietStop: quietStop(), dcutr: dcutr(), autoNAT: autoNATv2(), ...relay, ...upnp },
    connectionManager: {
      inboundConnectionThreshold: init.inboundConnectionsPerSecPerHost ?? 100,
      ...(init.maxIncomingPendingConnections != null ? { maxIncomingPendingConnections: init.maxIncomingPendingConnections } : {})
    },
    // A banned peer's reconnects are refused once it has proven its identity (Noise), before any stream opens.
    connectionGater: {
      denyInboundEncryptedConnection: peerId => guard.refuses(peerId.toString()),
      denyOutboundEncryptedConnection: peerId => guard.refuses(peerId.toString()),
      denyInboundRelayReservation: peerId => guard.refuses(peerId.toString()) || relayGate.refuses(peerId)
    }
  })
  setOffenderGuard(node, guard)
  relayGate.attach(node)
  setRelayGate(node, relayGate)
  announceListenAddresses(node)
  return node
}
