/**
 * Per-peer token-bucket rate limit and misbehaviour score.
 *
 * Rules: each peer has a bucket of `burst` tokens refilled at
 * `ratePerSec`; a request costs one token and is refused when the bucket
 * is empty. Every refusal or protocol violation lowers the peer's score by
 * the fault's weight; a score at or below `banScore` bans the peer for
 * `banDurationMs` ("drop and penalize"). Scores recover by
 * `recoveryPerHour` toward 0. At most
 * `maxPeers` peers are tracked; the least recently seen is forgotten first
 * (a forgotten peer restarts with a full bucket and a clean score, which
 * bounds memory at the price of amnesty for long-idle peers).
 * - A peer "at rest" (its bucket refilled, its score back to 0, no ban
 *   running) is exactly what an untracked peer is, so it is forgotten
 *   without any amnesty: each new peer tracked drops up to two rested
 *   least-recently-seen ones. The map then holds only the recently active
 *   peers instead of growing to `maxPeers` (at 10^6 simulated peers those
 *   maps were most of a supernode's memory).
 */

/** Options of a RateLimiter. */
export interface RateLimiterInit {
  /** Sustained requests per second per peer. Default 20. */
  ratePerSec?: number
  /** Requests a peer may burst. Default 40. */
  burst?: number
  /** Score at or below which a peer is banned. Default -100. */
  banScore?: number
  /** How long a ban lasts, in ms. Default 1 h. */
  banDurationMs?: number
  /** Score recovered per hour of good behaviour. Default 50. */
  recoveryPerHour?: number
  /** Peers tracked at once. Default 10 000. */
  maxPeers?: number
}

interface PeerState { tokens: number, score: number, lastMs: number, bannedUntilMs: number }

/** Outcome of `take`: allowed, or refused (and whether the peer is now banned). */
export interface TakeResult { allowed: boolean, banned: boolean }

// take() runs for every request a node answers: its outcomes are shared constants, not a new object each.
const ALLOWED: TakeResult = Object.freeze({ allowed: true, banned: false })
const ALLOWED_BANNED: TakeResult = Object.freeze({ allowed: true, banned: true })
const REFUSED: TakeResult = Object.freeze({ allowed: false, banned: false })
const REFUSED_BANNED: TakeResult = Object.freeze({ allowed: false, banned: true })

/** Token bucket per peer plus a misbehaviour score; time is passed in. */
export class RateLimiter {
  private readonly ratePerSec: number
  private readonly burst: number
  private readonly banScore: number
  private readonly recoveryPerHour: number
  private readonly banDurationMs: number
  private readonly maxPeers: number
  private readonly peers = new Map<string, PeerState>()

  constructor (init: RateLimiterInit = {}) {
    this.ratePerSec = init.ratePerSec ?? 20
    this.burst = init.burst ?? 40
    this.banScore = init.banScore ?? -100
    this.recoveryPerHour = init.recoveryPerHour ?? 50
    this.banDurationMs = init.banDurationMs ?? 60 * 60 * 1000
    this.maxPeers = init.maxPeers ?? 10_000
  }

  /** Peers currently tracked. */
  get trackedPeers (): number { return this.peers.size }

  /** Spends one token of `peer` at `nowMs`; a refusal costs `refusalPenalty` score. */
  take (nowMs: number, peer: string, refusalPenalty = 5): TakeResult {
    const s = this.state(nowMs, peer)
    if (s.tokens >= 1) {
      s.tokens -= 1
      return nowMs < s.bannedUntilMs ? ALLOWED_BANNED : ALLOWED
    }
    return this.lower(nowMs, s, refusalPenalty) ? REFUSED_BANNED : REFUSED
  }

  /** Lowers `peer`'s score by `weight` (a protocol violation); true when it is now banned. */
  fault (nowMs: number, peer: string, weight: number): boolean {
    return this.lower(nowMs, this.state(nowMs, peer), weight)
  }

  /** Current score of `peer` (0 for unknown peers). */
  score (nowMs: number, peer: string): number {
    return this.peers.has(peer) ? this.state(nowMs, peer).score : 0
  }

  /** True when `peer`'s score is at or below the ban threshold. */
  isBanned (nowMs: number, peer: string): boolean {
    const s = this.peers.get(peer)
    return s != null && nowMs < s.bannedUntilMs
  }

  /** Drops up to `max` peers at rest (indistinguishable from untracked) among the 8 least recently seen: a penalized peer at the head does not block the rest. */
  private forgetRested (nowMs: number, max: number): void {
    let dropped = 0
    let scanned = 0
    for (const [peer, s] of this.peers) {
      if (dropped >= max || scanned++ >= 8) return
      if (!this.atRest(nowMs, s)) continue
      this.peers.delete(peer)
      dropped++
    }
  }

  private atRest (nowMs: number, s: PeerState): boolean {
    const idleMs = nowMs - s.lastMs
    if (nowMs < s.bannedUntilMs) return false
    if (s.tokens + idleMs * this.ratePerSec / 1000 < this.burst) return false
    return s.score >= 0 || s.score + idleMs * this.recoveryPerHour / 3_600_000 >= 0
  }

  private lower (nowMs: number, s: PeerState, weight: number): boolean {
    s.score -= weight
    if (s.score <= this.banScore && nowMs >= s.bannedUntilMs) {
      s.bannedUntilMs = nowMs + this.banDurationMs
      s.score = 0 // a served ban clears the record; a repeat offender earns a new one
    }
    return nowMs < s.bannedUntilMs
  }

  private state (nowMs: number, peer: string): PeerState {
    let s = this.peers.get(peer)
    if (s == null) {
      s = { tokens: this.burst, score: 0, lastMs: nowMs, bannedUntilMs: -Infinity }
      this.forgetRested(nowMs, 2)
      if (this.peers.size >= this.maxPeers) {
        const oldest = this.peers.keys().next().value as string
        this.peers.delete(oldest)
      }
    } else {
      this.peers.delete(peer) // re-insert: Map order is our LRU order
      const dtMs = Math.max(0, nowMs - s.lastMs)
      s.tokens = Math.min(this.burst, s.tokens + dtMs * this.ratePerSec / 1000)
      if (s.score < 0) s.score = Math.min(0, s.score + dtMs * this.recoveryPerHour / 3_600_000)
      s.lastMs = nowMs
    }
    this.peers.set(peer, s)
    return s
  }
}
