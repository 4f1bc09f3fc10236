/**
 * The overlay shell's reachability and relay I/O: asks verifiers to dial
 * us back (OverlayReach) and hands their verdicts to the peer core; holds
 * the relay reservations the core wants (RelayReservations) and opens our
 * relay server when the core serves relays; has libp2p announce the
 * addresses the core confirmed dialable. Every rule is the core's
 * (core/reach); this is the I/O around it.
 */
import type { IdentifyResult } from '@libp2p/interface'
import { announceAddress, type SwarmNode } from './swarm-node.js'
import { OverlayReach } from './overlay-reach.js'
import { RelayReservations } from './relay-reservations.js'
import { relayGateOf } from './relay-server.js'
import type { OverlayEffect, OverlayPeer } from '../core/peer/overlay-peer.js'
import type { OverlayEvents } from './overlay-api.js'

/** What OverlayNat needs of the overlay shell. */
export interface OverlayNatHost {
  readonly peer: OverlayPeer
  input: (fn: (nowMs: number) => OverlayEffect[]) => void
  emit: <K extends keyof OverlayEvents>(name: K, detail: OverlayEvents[K]['detail']) => void
  running: () => boolean
}

const now = (): number => Math.floor(performance.now())

/** Reachability verdicts, relay reservations and announced addresses of one overlay peer. */
export class OverlayNat {
  private readonly reach: OverlayReach
  private readonly reservations: RelayReservations
  private lastReachability = ''
  /** Addresses the core confirmed that we told libp2p to announce (≤ the tracker's 8). */
  private readonly announced = new Set<string>()

  constructor (private readonly node: SwarmNode, private readonly host: OverlayNatHost) {
    const { peer } = host
    this.reach = new OverlayReach(node, {
      wants: addr => peer.wantsReachVerdict(now(), addr),
      verdict: v => { peer.reachabilityVerdict(now(), v); this.noteReachability(); this.sync(now()) },
      pathChanged: addr => { peer.reachabilityPathChanged(addr) }
    }, message => { host.emit('overlay:error', { message }) })
    this.reservations = new RelayReservations(node, e => {
      if (e.type === 'reserved') host.emit('relay:reserved', { relay: e.relay, addrs: e.addrs })
      else host.emit('relay:failed', { relay: e.relay, message: e.message, ...(e.type === 'broken' ? { broken: true } : {}) })
      // A relay that does not relay: the peer drops that supernode and attaches (and reserves) elsewhere.
      if (e.type === 'broken') host.input(nowMs => peer.relayBroken(nowMs, e.relay))
      // Our relayed addresses are part of our contact from now on: our supernodes hear them at once (provider answers carry them).
      if (e.type === 'reserved') host.input(nowMs => { peer.addressesChanged(nowMs); return [] })
    })
  }

  /** Relays holding a reservation for us. */
  get relays (): string[] { return this.reservations.relays }

  /** identify ran with a peer: a verifier may be asked. */
  identified (result: IdentifyResult): void { this.reach.identified(result) }

  /** The peer says whether we relay for others and where we hold reservations; libp2p does the rest. */
  sync (nowMs: number): void {
    if (!this.host.running()) return
    relayGateOf(this.node).open = this.host.peer.servesRelay
    this.reservations.sync(this.host.peer.relaysWanted(nowMs))
  }

  stop (): void {
    this.reservations.stop()
    this.reach.stop()
    relayGateOf(this.node).open = false
  }

  private noteReachability (): void {
    const { peer } = this.host
    const r = peer.reachability(now())
    const key = JSON.stringify(r)
    if (key === this.lastReachability) return
    this.lastReachability = key
    this.host.emit('reachability:changed', r)
    // What the core believes dialable, libp2p announces (identify, our contact): a port the router forwards
    // (UPnP) is otherwise unannounced until libp2p's own AutoNAT agrees. Our supernodes hear of it at once.
    const fresh = r.confirmedAddrs.filter(a => !this.announced.has(a))
    if (fresh.length === 0) return
    for (const a of fresh) { this.announced.add(a); announceAddress(this.node, a) }
    this.host.input(nowMs => { peer.addressesChanged(nowMs); return [] })
  }
}
