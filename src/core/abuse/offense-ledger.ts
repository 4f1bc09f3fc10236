/**
 * Who has misbehaved lately, and who is refused for it: one policy for
 * every protocol a node speaks (xfer, manifest, status, dht), sans-IO.
 * The driver (src/net/offender-guard.ts) records offenses and turns a ban
 * into a hang-up and a refused reconnect.
 *
 * Rules:
 * - An offense is something a well-behaved peer never does: a frame that
 *   does not decode or breaks the protocol, a frame over the size limit,
 *   a frame trickled slower than the frame deadline, a stream that stops
 *   reading what it asked for. Each has a weight (default 1).
 * - Offenses count for `windowMs` (default 10 min) after they happened.
 *   A peer whose offenses in the window weigh `maxOffenses` (default 3, the
 *   DHT's own penalty threshold) or more is banned for `banMs` (default
 *   10 min): disconnected, its new connections and streams refused.
 * - A ban ends by itself; the offenses that led to it are forgotten with
 *   it, so a peer that comes back well-behaved starts clean.
 * - At most `maxTrackedPeers` (default 4096) peers are remembered; the
 *   one recorded least recently is forgotten first, so a flood of fresh
 *   identities costs bounded memory (and each of them gets its own three
 *   strikes, which is what a fresh identity costs anyway).
 */

/** Default offense weight that gets a peer banned. */
export const DEFAULT_MAX_OFFENSES = 3
/** Default time an offense counts against a peer, ms. */
export const DEFAULT_OFFENSE_WINDOW_MS = 10 * 60_000
/** Default time a banned peer is refused, ms. */
export const DEFAULT_BAN_MS = 10 * 60_000
/** Default peers remembered at once (offenders and banned). */
export const DEFAULT_MAX_TRACKED_PEERS = 4096
/** Most offenses kept per peer (more than any ban threshold needs). */
const MAX_OFFENSES_KEPT = 64

/** Options of an OffenseLedger; every field optional. */
export interface OffenseLedgerInit {
  /** Offense weight within `windowMs` that bans a peer. Default DEFAULT_MAX_OFFENSES (3). */
  maxOffenses?: number
  /** Time an offense counts, ms. Default DEFAULT_OFFENSE_WINDOW_MS (10 min). */
  windowMs?: number
  /** Time a ban lasts, ms. Default DEFAULT_BAN_MS (10 min). */
  banMs?: number
  /** Peers remembered at once. Default DEFAULT_MAX_TRACKED_PEERS (4096). */
  maxTrackedPeers?: number
}

/** The ledger's limits, defaults resolved. */
export type OffenseLimits = Required<OffenseLedgerInit>

/** What recording an offense decided. */
export interface OffenseVerdict {
  /** Weight of the peer's offenses in the window, this one included. */
  weight: number
  /** True when this offense banned the peer (it was not banned before). */
  banned: boolean
}

interface PeerRecord {
  offenses: Array<{ atMs: number, weight: number }>
  bannedUntilMs: number
}

/** Resolves and checks OffenseLedgerInit; a bad value throws RangeError. */
export function resolveOffenseLimits (init: OffenseLedgerInit = {}): OffenseLimits {
  const limits = {
    maxOffenses: init.maxOffenses ?? DEFAULT_MAX_OFFENSES,
    windowMs: init.windowMs ?? DEFAULT_OFFENSE_WINDOW_MS,
    banMs: init.banMs ?? DEFAULT_BAN_MS,
    maxTrackedPeers: init.maxTrackedPeers ?? DEFAULT_MAX_TRACKED_PEERS
  }
  for (const [name, v] of Object.entries(limits)) {
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`offender ${name} must be a positive number, got ${v}`)
  }
  return limits
}

/** Offenses per peer and the bans they lead to (see the file's rules). */
export class OffenseLedger {
  private limits: OffenseLimits
  /** Insertion order is recency order: a record is re-inserted on every offense. */
  private readonly peers = new Map<string, PeerRecord>()

  /** A ledger with the given limits. */
  constructor (init: OffenseLedgerInit = {}) {
    this.limits = resolveOffenseLimits(init)
  }

  /** Replaces the limits (bans already given keep their end time). */
  configure (init: OffenseLedgerInit): void {
    this.limits = resolveOffenseLimits({ ...this.limits, ...init })
  }

  /** The limits in force. */
  get current (): OffenseLimits {
    return { ...this.limits }
  }

  /** Records an offense of `peerId` at `nowMs`. */
  record (nowMs: number, peerId: string, weight = 1): OffenseVerdict {
    let rec = this.peers.get(peerId)
    if (rec != null) this.peers.delete(peerId)
    rec ??= { offenses: [], bannedUntilMs: -Infinity }
    this.peers.set(peerId, rec)
    while (this.peers.size > this.limits.maxTrackedPeers) this.peers.delete(this.peers.keys().next().value as string)
    if (nowMs < rec.bannedUntilMs) return { weight: this.weightOf(rec, nowMs), banned: false }
    rec.offenses.push({ atMs: nowMs, weight })
    if (rec.offenses.length > MAX_OFFENSES_KEPT) rec.offenses.shift()
    const total = this.weightOf(rec, nowMs)
    if (total < this.limits.maxOffenses) return { weight: total, banned: false }
    rec.bannedUntilMs = nowMs + this.limits.banMs
    rec.offenses.length = 0
    return { weight: total, banned: true }
  }

  /** True while `peerId` is banned. */
  isBanned (nowMs: number, peerId: string): boolean {
    const rec = this.peers.get(peerId)
    if (rec == null) return false
    if (nowMs < rec.bannedUntilMs) return true
    if (rec.offenses.length === 0) this.peers.delete(peerId)
    return false
  }

  /** Weight of `peerId`'s offenses in the window at `nowMs`. */
  weight (nowMs: number, peerId: string): number {
    const rec = this.peers.get(peerId)
    return rec == null ? 0 : this.weightOf(rec, nowMs)
  }

  /** Peers remembered now (tests and metrics). */
  get size (): number {
    return this.peers.size
  }

  private weightOf (rec: PeerRecord, nowMs: number): number {
    while (rec.offenses.length > 0 && nowMs - rec.offenses[0].atMs >= this.limits.windowMs) rec.offenses.shift()
    let sum = 0
    for (const o of rec.offenses) sum += o.weight
    return sum
  }
}
