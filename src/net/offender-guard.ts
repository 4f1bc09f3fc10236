/**
 * The one offender policy of a libp2p node, shared by every protocol
 * handler on it (xfer, manifest, status, dht): a handler reports what a
 * peer got wrong with `offense`, and the pure OffenseLedger
 * (core/abuse/offense-ledger.ts) decides; a ban hangs up every connection
 * to the peer, and the node's connection gater (set in swarm-node.ts)
 * refuses its reconnects while the ban lasts. Handlers also call
 * `refuses` when a stream opens, for connections that predate the ban.
 *
 * Why one object per node and not per protocol: an attacker that is
 * refused on xfer must not start over on manifest; the DHT's own
 * protocolViolation penalty (its core) stays, and reports here too.
 */
import { TypedEventEmitter } from 'main-event'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Libp2p } from '@libp2p/interface'
import { OffenseLedger, type OffenseLedgerInit, type OffenseLimits } from '../core/abuse/offense-ledger.js'

/** Events of an OffenderGuard. */
export interface OffenderGuardEvents {
  'peer:offense': CustomEvent<{ peerId: string, protocol: string, reason: string, weight: number }>
  'peer:banned': CustomEvent<{ peerId: string, protocol: string, reason: string, untilMs: number }>
}

/** A stream refused because its peer is banned. */
export class PeerBannedError extends Error {
  override name = 'PeerBannedError'
  readonly code = 'ERR_PEER_BANNED'
}

/** Offenses and bans of one node (see the file's comment). */
export class OffenderGuard extends TypedEventEmitter<OffenderGuardEvents> {
  private readonly ledger: OffenseLedger
  private node: Pick<Libp2p, 'hangUp'> | undefined
  /** Offenses recorded so far (tests and metrics). */
  offenses = 0
  /** Bans given so far (tests and metrics). */
  bans = 0

  /** A guard with the given limits (see OffenseLedgerInit for defaults). */
  constructor (init: OffenseLedgerInit = {}, private readonly now: () => number = Date.now) {
    super()
    this.ledger = new OffenseLedger(init)
  }

  /** Changes the limits (a seeder's options, tests' short bans). */
  configure (init: OffenseLedgerInit): void {
    this.ledger.configure(init)
  }

  /** The limits in force. */
  get limits (): OffenseLimits {
    return this.ledger.current
  }

  /** The node whose connections a ban hangs up. */
  attach (node: Pick<Libp2p, 'hangUp'>): void {
    this.node = node
  }

  /** `peerId` broke `protocol` (`reason` says how); a ban hangs it up. */
  offense (peerId: string, protocol: string, reason: string, weight = 1): void {
    const nowMs = this.now()
    const verdict = this.ledger.record(nowMs, peerId, weight)
    this.offenses++
    this.safeDispatchEvent('peer:offense', { detail: { peerId, protocol, reason, weight: verdict.weight } })
    if (verdict.banned) {
      this.bans++
      this.safeDispatchEvent('peer:banned', { detail: { peerId, protocol, reason, untilMs: nowMs + this.ledger.current.banMs } })
    }
    if (verdict.banned || this.ledger.isBanned(nowMs, peerId)) this.hangUp(peerId)
  }

  /** True while `peerId` is banned: refuse its connections and streams. */
  refuses (peerId: string): boolean {
    return this.ledger.isBanned(this.now(), peerId)
  }

  private hangUp (peerId: string): void {
    if (this.node == null) return
    let id
    try { id = peerIdFromString(peerId) } catch { return }
    void this.node.hangUp(id).catch(() => {})
  }
}

const guards = new WeakMap<object, OffenderGuard>()

/** The offender guard of `node` (created with default limits on first use). */
export function offenderGuardOf (node: Pick<Libp2p, 'hangUp'>): OffenderGuard {
  let guard = guards.get(node)
  if (guard == null) {
    guard = new OffenderGuard()
    guard.attach(node)
    guards.set(node, guard)
  }
  return guard
}

/** Makes `guard` the one `offenderGuardOf(node)` returns (swarm-node.ts, which also wires it into the connection gater). */
export function setOffenderGuard (node: Pick<Libp2p, 'hangUp'>, guard: OffenderGuard): void {
  guard.attach(node)
  guards.set(node, guard)
}
