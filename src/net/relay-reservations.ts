/**
 * The leaf side of circuit relay v2: holds a reservation at each relay the
 * overlay peer names (`OverlayPeer.relaysWanted`: the attached supernodes
 * of a leaf others cannot dial), through libp2p's relay transport (a
 * listen on `RELAY_ADDR/p2p-circuit`). libp2p then adds the relayed
 * addresses to the node's own, so the overlay's contact (and with it the
 * provider records and "busy, try these peers" answers that name us)
 * carries them. A relay we lose (its connection closed) is reserved again
 * at the next sync while it is still wanted; a refused one after a wait.
 *
 * A relay may grant reservations and still not relay (a broken or hostile
 * one): RELAY_PROBE_AFTER_MS after reserving, and every
 * RELAY_PROBE_INTERVAL_MS while held, a throwaway identity of ours dials us
 * through it (relay-probe.ts). When that connection does not arrive, the
 * relay is reported `broken`, we hang up on it (which ends the reservation
 * and the relayed address we announced there); the overlay peer attaches
 * elsewhere. Which wanted relays are asked, and when one that refused or
 * was broken is asked again, is the core's rule (core/reach/relay-retry.ts).
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '@libp2p/interface'
import type { SwarmNode } from './swarm-node.js'
import type { Contact } from '../core/dht/contact.js'
import { ipOfMultiaddr } from '../core/proximity/public-address.js'
import { addressScope } from '../core/proximity/ip-address.js'
import { probeRelayed } from './relay-probe.js'
import { peerIdFromString } from '@libp2p/peer-id'
import { RelayRetry } from '../core/reach/relay-retry.js'

/** Time for one reservation (connect + reserve), ms. */
export const RESERVE_TIMEOUT_MS = 10_000
/** First probe of a new reservation, ms after it was granted (a downloader told of the address meanwhile may still try it). */
export const RELAY_PROBE_AFTER_MS = 30_000
/** Probes of a held reservation, ms apart. */
export const RELAY_PROBE_INTERVAL_MS = 10 * 60_000
/** Time one probe may take (connect to the relay, relayed connection to us), ms. */
export const RELAY_PROBE_TIMEOUT_MS = 15_000

/** What happened to a reservation, for the overlay's events. */
export type RelayReservationEvent =
  | { type: 'reserved', relay: string, addrs: string[] }
  | { type: 'failed', relay: string, message: string }
  /** It granted a reservation, but our probe through it did not reach us. */
  | { type: 'broken', relay: string, message: string }

interface TransportManagerLike { listen: (addrs: ReturnType<typeof multiaddr>[]) => Promise<void> }

/** Keeps reservations at the relays the overlay peer wants. */
export class RelayReservations {
  private readonly pending = new Set<string>()
  private readonly held = new Set<string>()
  private readonly retry = new RelayRetry()
  /** Next probe per held relay, with the relayed address it probes. */
  private readonly probes = new Map<string, { timer: NodeJS.Timeout, addr: string }>()
  private probing = false
  private stopped = false
  /** Aborts a probe in flight when we stop. */
  private readonly stopping = new AbortController()
  private readonly onDisconnect = (e: CustomEvent<PeerId>): void => { this.release(e.detail.toString()) }

  constructor (private readonly node: SwarmNode, private readonly onEvent: (e: RelayReservationEvent) => void) {
    node.addEventListener('peer:disconnect', this.onDisconnect)
  }

  /** Relays holding a reservation for us. */
  get relays (): string[] { return [...this.held] }

  /** Reserves at every wanted relay not yet held (bounded; reservations no longer wanted lapse with their connection). */
  sync (wanted: readonly Contact[]): void {
    const busy = new Set([...this.held, ...this.pending])
    for (const c of this.retry.toReserve(performance.now(), wanted, busy)) {
      const addr = relayListenAddr(c)
      if (addr === undefined) continue
      this.pending.add(c.peerId)
      void this.reserve(c.peerId, addr).finally(() => { this.pending.delete(c.peerId) })
    }
  }

  stop (): void {
    this.stopped = true
    this.stopping.abort()
    this.node.removeEventListener('peer:disconnect', this.onDisconnect)
    for (const p of this.probes.values()) clearTimeout(p.timer)
    this.probes.clear()
  }

  private release (relay: string): void {
    this.held.delete(relay)
    const p = this.probes.get(relay)
    if (p != null) clearTimeout(p.timer)
    this.probes.delete(relay)
  }

  private scheduleProbe (relay: string, addr: string, afterMs: number): void {
    const old = this.probes.get(relay)
    if (old != null) clearTimeout(old.timer)
    const timer = setTimeout(() => { void this.probe(relay, addr) }, afterMs)
    timer.unref()
    this.probes.set(relay, { timer, addr })
  }

  /** One probe at a time: each costs a throwaway libp2p node. */
  private async probe (relay: string, addr: string): Promise<void> {
    if (this.stopped || !this.held.has(relay)) return
    if (this.probing) { this.scheduleProbe(relay, addr, RELAY_PROBE_TIMEOUT_MS); return }
    this.probing = true
    let arrived: boolean
    try { arrived = await probeRelayed(addr, { timeoutMs: RELAY_PROBE_TIMEOUT_MS, signal: this.stopping.signal }) } finally { this.probing = false }
    if (this.stopped || !this.held.has(relay)) return
    if (arrived) { this.scheduleProbe(relay, addr, RELAY_PROBE_INTERVAL_MS); return }
    this.release(relay)
    this.retry.broken(performance.now(), relay)
    this.onEvent({ type: 'broken', relay, message: `a connection to us through it did not arrive within ${RELAY_PROBE_TIMEOUT_MS} ms` })
    // Hanging up ends the reservation, and with it the relayed address we announce there.
    await this.node.hangUp(peerIdFromString(relay)).catch(() => {})
  }

  private async reserve (relay: string, addr: string): Promise<void> {
    // libp2p keeps its transport manager among its components; it has no public listen-at-run-time call.
    const tm = (this.node as unknown as { components?: { transportManager?: TransportManagerLike } }).components?.transportManager
    if (tm == null) { this.onEvent({ type: 'failed', relay, message: 'libp2p transport manager not reachable' }); return }
    try {
      await withTimeout(tm.listen([multiaddr(addr)]), RESERVE_TIMEOUT_MS)
      this.held.add(relay)
      this.retry.reserved(relay)
      const addrs = this.node.getMultiaddrs().map(a => a.toString()).filter(a => a.includes(`/p2p/${relay}/p2p-circuit`) && !isLoopbackRelayed(a))
      this.onEvent({ type: 'reserved', relay, addrs })
      if (addrs.length > 0) this.scheduleProbe(relay, addrs[0], RELAY_PROBE_AFTER_MS)
    } catch (err) {
      this.retry.failed(performance.now(), relay)
      this.onEvent({ type: 'failed', relay, message: (err as Error).message })
    }
  }
}

/** `ADDR/p2p/RELAY/p2p-circuit` over the relay's first public address, else its first non-loopback one. */
export function relayListenAddr (c: Contact): string | undefined {
  const direct = c.addrs.filter(a => !a.includes('/p2p-circuit'))
  const scoped = direct.map(a => ({ a, ip: ipOfMultiaddr(a) })).filter(x => x.ip !== undefined)
  const pick = scoped.find(x => addressScope(x.ip!) === 'public') ?? scoped.find(x => addressScope(x.ip!) !== 'loopback')
  return pick === undefined ? undefined : `${pick.a}/p2p/${c.peerId}/p2p-circuit`
}

/** A relayed address over the relay's loopback address: of use to nobody else, left out of what we announce. */
export function isLoopbackRelayed (addr: string): boolean {
  return addr.includes('/p2p-circuit') && /^\/ip[46]\/(127\.|::1\/)/.test(addr)
}

async function withTimeout<T> (p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`no reservation within ${ms} ms`)) }, ms) })])
  } finally { clearTimeout(timer) }
}

