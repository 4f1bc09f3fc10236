/**
 * The circuit relay v2 server a peer runs for the leaves behind NATs that
 * attach to it (`@libp2p/circuit-relay-v2`): its limits as options with
 * one default each, and the gate that lets only members (supernodes,
 * seeders) grant reservations. Every peer built by `startPeer` has the
 * server; a leaf's gate is shut, so a leaf never relays for anyone.
 *
 * Pieces do not cross a relay unless its operator allows it
 * (`relayPieces`): by default every relayed connection carries libp2p's
 * data and duration limit, libp2p marks it limited, and the xfer and
 * manifest protocols refuse limited connections, so a relay carries
 * signalling only (identify, DCUtR, the reverse dial it triggers).
 */
import type { Libp2p } from '@libp2p/interface'
import { circuitRelayServer, type CircuitRelayServerInit } from '@libp2p/circuit-relay-v2'
import type { PeerId } from '@libp2p/interface'
import { reservationRefusal, type HeldReservation } from '../core/reach/relay-admission.js'

/** Limits of a peer's relay server. */
export interface RelayServerInit {
  /** Leaves holding a reservation at once. Default 64. */
  maxReservations?: number
  /**
   * Reservations held at once by requesters of one network (IPv4 /24, IPv6
   * /48), whatever their peer ids (core/reach/relay-admission.ts). Default 8:
   * one host's cheap identities can pin an eighth of the default 64 slots,
   * not all of them, while the few desktops of one home (one router, one IP)
   * all fit.
   */
  maxReservationsPerNetwork?: number
  /** Relayed connections open at once towards one reserved leaf. Default 16. */
  maxRelayedConnectionsPerLeaf?: number
  /** Bytes one relayed connection may carry (both directions) before the relay closes it. Default 131072 (128 KiB, libp2p's). Ignored with `relayPieces`. */
  maxBytesPerRelayedConnection?: number
  /** How long one relayed connection may stay open, ms. Default 120000 (libp2p's 2 min). Ignored with `relayPieces`. */
  maxRelayedConnectionDurationMs?: number
  /** How long a reservation lasts unless the leaf renews it, ms. Default 7200000 (2 h). */
  reservationTtlMs?: number
  /** Relay without data or duration limits, so that pieces may cross this relay. Default false: the relay's upload belongs to its leaves' signalling. */
  relayPieces?: boolean
}

/** RelayServerInit with every default applied. */
export type ResolvedRelayServerInit = Required<RelayServerInit>

/** Defaults of RelayServerInit. */
export const RELAY_SERVER_DEFAULTS: ResolvedRelayServerInit = {
  maxReservations: 64,
  maxReservationsPerNetwork: 8,
  maxRelayedConnectionsPerLeaf: 16,
  maxBytesPerRelayedConnection: 128 * 1024,
  maxRelayedConnectionDurationMs: 120_000,
  reservationTtlMs: 2 * 60 * 60_000,
  relayPieces: false
}

/** A relay option out of range. */
export class RelayOptionError extends Error {
  override name = 'RelayOptionError'
  readonly code = 'ERR_RELAY_OPTION'
}

/** Applies the defaults and rejects values that are not positive integers. */
export function resolveRelayServerInit (init: RelayServerInit = {}): ResolvedRelayServerInit {
  const r = { ...RELAY_SERVER_DEFAULTS, ...Object.fromEntries(Object.entries(init).filter(([, v]) => v !== undefined)) }
  for (const k of ['maxReservations', 'maxReservationsPerNetwork', 'maxRelayedConnectionsPerLeaf', 'maxBytesPerRelayedConnection', 'maxRelayedConnectionDurationMs', 'reservationTtlMs'] as const) {
    if (!Number.isSafeInteger(r[k]) || r[k] <= 0) throw new RelayOptionError(`relay option ${k} must be a positive integer, got ${String(r[k])}`)
  }
  return r
}

/** The libp2p relay server service for `init`. */
export function relayServerService (init: ResolvedRelayServerInit): ReturnType<typeof circuitRelayServer> {
  const options: CircuitRelayServerInit = {
    reservations: {
      maxReservations: init.maxReservations,
      reservationTtl: init.reservationTtlMs,
      applyDefaultLimit: !init.relayPieces,
      defaultDataLimit: BigInt(init.maxBytesPerRelayedConnection),
      defaultDurationLimit: init.maxRelayedConnectionDurationMs
    },
    maxOutboundStopStreams: init.maxRelayedConnectionsPerLeaf
  }
  return circuitRelayServer(options)
}

/**
 * Whether this node grants a relay reservation: only while open (members
 * do; see OverlayPeer.servesRelay), and within the per-network limit
 * (core/reach/relay-admission.ts), counted over the reservations libp2p's
 * relay server holds now.
 */
export class RelayGate {
  open = false
  /** Reservations refused by the per-network limit since start. */
  refusedByNetwork = 0
  private node: Libp2p | undefined

  constructor (private readonly maxPerNetwork = RELAY_SERVER_DEFAULTS.maxReservationsPerNetwork) {}

  /** The node whose relay server this gate guards (set once it exists). */
  attach (node: Libp2p): void { this.node = node }

  /** True when a reservation by `peerId` must be refused now. */
  refuses (peerId: PeerId): boolean {
    if (!this.open) return true
    const relay = (this.node?.services as { relay?: { reservations?: Iterable<[PeerId, { addr: { toString: () => string } }]> } } | undefined)?.relay
    if (this.node == null || relay?.reservations == null) return false
    const held: HeldReservation[] = []
    for (const [p, r] of relay.reservations) held.push({ peerId: p.toString(), ip: ipOfAddr(r.addr.toString()) })
    // The reservation request comes on the requester's direct connection (libp2p refuses it over a relay).
    const direct = this.node.getConnections(peerId).map(c => ipOfAddr(c.remoteAddr.toString())).find(ip => ip !== undefined)
    const refusal = reservationRefusal({ peerId: peerId.toString(), ip: direct }, held, this.maxPerNetwork)
    if (refusal !== undefined) this.refusedByNetwork++
    return refusal !== undefined
  }
}

/** The IP of a direct `/ip4|ip6/X/...` address; undefined for a relayed one. */
function ipOfAddr (addr: string): string | undefined {
  if (addr.includes('/p2p-circuit')) return undefined
  return /^\/ip[46]\/([^/]+)\//.exec(addr)?.[1]
}

const gates = new WeakMap<object, RelayGate>()

/** The relay gate of `node` (shut until a member opens it). */
export function relayGateOf (node: object): RelayGate {
  let gate = gates.get(node)
  if (gate == null) { gate = new RelayGate(); gates.set(node, gate) }
  return gate
}

/** Makes `gate` the one relayGateOf(node) returns (swarm-node.ts wires it into the connection gater). */
export function setRelayGate (node: object, gate: RelayGate): void { gates.set(node, gate) }

/** libp2p's circuit relay v2 STOP protocol: one stream, opened by the relay to the destination, per relayed connection. */
const RELAY_STOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/stop'

/** What a relay server holds now: reservations granted, and relayed connections passing through it (its open STOP streams). */
export function relayStats (node: Libp2p): { reservations: number, relayedConnections: number, refusedByNetwork: number } {
  const relay = (node.services as { relay?: { reservations?: { size: number } } }).relay
  let relayedConnections = 0
  for (const c of node.getConnections()) for (const st of c.streams) if (st.protocol === RELAY_STOP_PROTOCOL && st.direction === 'outbound') relayedConnections++
  return { reservations: relay?.reservations?.size ?? 0, relayedConnections, refusedByNetwork: relayGateOf(node).refusedByNetwork }
}
