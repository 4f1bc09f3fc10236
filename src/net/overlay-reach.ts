/**
 * The overlay shell's half of reachability: when identify shows a peer
 * that verifies (a DHT member, serving libp2p's AutoNAT v2), ask it to
 * dial us back on the address it saw us from (when public) with each TCP
 * port we listen on (autonat-client.ts), and hand its answers to the peer
 * core as verdicts. Believing them is the core's rule
 * (core/reach/reachability.ts); here is only I/O, with bounds.
 */
import type { IdentifyResult } from '@libp2p/interface'
import type { SwarmNode } from './swarm-node.js'
import { DHT_PROTOCOL } from './protocol-ids.js'
import { askAutoNat, AUTONAT_DIAL_REQUEST_PROTOCOL, remoteIpOf, tcpEndpoint } from './autonat-client.js'
import { mayBePublic, type ReachVerdict } from '../core/reach/reachability.js'
import { stripP2p } from './overlay-contacts.js'

/** Dial-back requests of ours in flight at once. */
export const MAX_REACH_ASKS_IN_FLIGHT = 4
/** Time one verifier may take for all our addresses (libp2p's server waits up to 30 s per dial), ms. */
export const REACH_ASK_TIMEOUT_MS = 30_000
/** One verifier is asked again only after this long (its verdict counts 30 min), ms. */
export const REACH_REASK_MS = 10 * 60_000
/** Verifiers remembered as asked. */
export const MAX_REACH_ASKED = 256

/** What OverlayReach needs of the peer core. */
export interface ReachCore {
  /** Whether `addr` still needs verdicts. */
  wants: (addr: string) => boolean
  /** One verdict (the core records it). */
  verdict: (v: ReachVerdict) => void
  /** A router began forwarding `addr` to us: earlier verdicts about it are void. */
  pathChanged: (addr: string) => void
}

/** Verifiers remembered with their connection, to ask again about a new port mapping. */
export const MAX_KNOWN_VERIFIERS = 16
/** Addresses waiting to be asked of one verifier. */
export const MAX_PENDING_ADDRS = 4

interface Verifier { connection: IdentifyResult['connection'], verifierIp: string }

/** Asks verifiers about our addresses as identify introduces them. */
export class OverlayReach {
  private readonly inFlight = new Set<string>()
  private readonly askedAtMs = new Map<string, number>()
  private readonly verifiers = new Map<string, Verifier>()
  private readonly mapped = new Set<string>()
  /** Addresses to ask a verifier about once its request in flight (or a free slot) allows. */
  private readonly pending = new Map<string, Set<string>>()
  private readonly onSelfUpdate = (): void => { this.checkMappings() }

  constructor (private readonly node: SwarmNode, private readonly core: ReachCore, private readonly onError: (message: string) => void) {
    node.addEventListener('self:peer:update', this.onSelfUpdate)
  }

  stop (): void { this.node.removeEventListener('self:peer:update', this.onSelfUpdate) }

  /** identify ran with a peer: ask it if it verifies and we still need verdicts. */
  identified (r: Pick<IdentifyResult, 'peerId' | 'protocols' | 'observedAddr' | 'connection'>): void {
    // A verifier's own dial-back is identified too: the once-per-REACH_REASK_MS rule keeps it from starting another round.
    // Members verify (OverlayPeer.verifiesReachability); leaves run libp2p's AutoNAT server too, but are not asked.
    if (!r.protocols.includes(AUTONAT_DIAL_REQUEST_PROTOCOL) || !r.protocols.includes(DHT_PROTOCOL) || r.observedAddr == null) return
    const peerId = r.peerId.toString()
    const nowMs = performance.now()
    const last = this.askedAtMs.get(peerId)
    if (last !== undefined && nowMs - last < REACH_REASK_MS) return
    const verifierIp = remoteIpOf(r.connection)
    const observed = /^\/(ip4|ip6)\/([^/]+)\//.exec(r.observedAddr.toString())
    // Seen on a loopback or private address, we are on the same host or LAN as the verifier: nothing to learn about the internet.
    if (verifierIp === undefined || observed == null || !mayBePublic(observed[2])) return
    if (this.inFlight.has(peerId) || this.inFlight.size >= MAX_REACH_ASKS_IN_FLIGHT) return
    this.verifiers.delete(peerId)
    this.verifiers.set(peerId, { connection: r.connection, verifierIp })
    if (this.verifiers.size > MAX_KNOWN_VERIFIERS) this.verifiers.delete(this.verifiers.keys().next().value as string)
    const addrs = [...this.listenPorts()].map(port => `/${observed[1]}/${observed[2]}/tcp/${port}`).filter(a => this.core.wants(a))
    this.askedAtMs.delete(peerId)
    this.askedAtMs.set(peerId, nowMs)
    if (this.askedAtMs.size > MAX_REACH_ASKED) this.askedAtMs.delete(this.askedAtMs.keys().next().value as string)
    this.ask(peerId, { connection: r.connection, verifierIp }, addrs)
  }

  /**
   * The router began forwarding a port to us (libp2p's UPnP service added
   * an "ip-mapping" address): verdicts about it from before are void, and
   * the verifiers we know are asked about it now rather than in 10 min.
   */
  private checkMappings (): void {
    // libp2p keeps unverified addresses, mappings among them, only in its address manager.
    const am = (this.node as unknown as { components?: { addressManager?: { getAddressesWithMetadata: () => Array<{ multiaddr: { toString: () => string }, type: string }> } } }).components?.addressManager
    if (am == null) return
    for (const a of am.getAddressesWithMetadata()) {
      const addr = a.multiaddr.toString()
      if (a.type !== 'ip-mapping' || this.mapped.has(addr) || tcpEndpoint(addr) === undefined || this.mapped.size >= MAX_PENDING_ADDRS * 4) continue
      this.mapped.add(addr)
      this.core.pathChanged(addr)
      for (const [peerId, v] of this.verifiers) if (v.connection.status === 'open') this.ask(peerId, v, [addr])
    }
  }

  private ask (peerId: string, v: Verifier, addrs: string[]): void {
    if (addrs.length === 0) return
    if (this.inFlight.has(peerId) || this.inFlight.size >= MAX_REACH_ASKS_IN_FLIGHT) {
      // Only a known verifier's mapping re-asks wait (bounded by MAX_KNOWN_VERIFIERS x MAX_PENDING_ADDRS).
      if (!this.verifiers.has(peerId)) return
      const p = this.pending.get(peerId) ?? new Set<string>()
      for (const a of addrs) if (p.size < MAX_PENDING_ADDRS) p.add(a)
      this.pending.set(peerId, p)
      return
    }
    this.inFlight.add(peerId)
    const r = v
    const verifierIp = v.verifierIp
    const signal = AbortSignal.timeout(REACH_ASK_TIMEOUT_MS)
    void (async () => {
      // One address per request: an AutoNAT v2 server dials only the first it accepts.
      for (const addr of addrs) {
        const x = await askAutoNat(this.node, r.connection, addr, { signal })
        if (x !== undefined) this.core.verdict({ verifier: peerId, verifierIp, addr: x.addr, dialable: x.dialable })
      }
    })()
      .catch((err: Error) => { this.onError(`reachability check by ${peerId}: ${err.message}`) })
      .finally(() => {
        this.inFlight.delete(peerId)
        // A slot is free: the first verifier with addresses waiting (this one first) is asked now.
        const next = this.pending.has(peerId) ? peerId : this.pending.keys().next().value
        if (next === undefined) return
        const addrs = [...(this.pending.get(next) ?? [])]
        this.pending.delete(next)
        const w = this.verifiers.get(next)
        if (w != null && w.connection.status === 'open') this.ask(next, w, addrs)
      })
  }

  private listenPorts (): Set<number> {
    const ports = new Set<number>()
    for (const a of this.node.getMultiaddrs()) {
      const ep = tcpEndpoint(stripP2p(a.toString()))
      if (ep !== undefined) ports.add(ep.port)
    }
    return ports
  }
}
