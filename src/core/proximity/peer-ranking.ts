/**
 * The one ranking of candidate peers by nearness, used wherever a peer
 * chooses among others: which supernodes a leaf attaches to, the order of
 * providers returned to an asker, which peers a downloader asks first and
 * which peers an uploader serves first.
 *
 * Rules, in order (each only breaks ties of the ones before):
 *  1. same AS as the chooser first (AS 0 = unknown never matches);
 *  2. longer shared IP prefix with the chooser first (0 across families or
 *     when either address is unknown);
 *  3. lower ALTO cost first (RFC 7285: the ISP's cost from the chooser's
 *     PID to the candidate's, alto-map.ts), when the shell gives one;
 *     unknown cost after every known. It refines, never overrides, the
 *     AS/prefix nearness of rules 1-2;
 *  4. lower measured round-trip time first; unknown RTT after every known;
 *  5. a per-pair priority, after BEP 40 ("Canonical Peer Priority",
 *     https://www.bittorrent.org/beps/bep_0040.html): a hash of the two
 *     peers' keys taken in canonical (sorted) order, so both ends of a pair
 *     compute the same value, the order is stable over time, and different
 *     choosers order the same equal set differently (load spreads).
 * `proximity: false` drops rules 1-3 and `rtt: false` drops rule 4, to
 * measure what proximity buys.
 *
 * Speed: the simulator calls this with ~100 candidates millions of times.
 * Sort keys are computed once per candidate into module-level scratch
 * arrays (core is synchronous, so one set suffices) and the pair hash is
 * murmur3's 32-bit mix of two 32-bit words, not SHA-256: it only has to
 * spread ties evenly, and each peer's 32-bit key already comes from its
 * id (a SHA-256 of a public key), which is costly to grind.
 */
import { type IpAddress, sharedPrefixBits } from './ip-address.js'
import { fmix32, mixWord } from '../hash32.js'

/** Where a peer is, as far as ranking cares. */
export interface PeerPlace {
  /** The peer's public address, when known. */
  readonly address?: IpAddress | undefined
  /** The peer's AS number; 0 when unknown. */
  readonly asn: number
  /** The peer's 32-bit tie-break key, from peerTieKey(). */
  readonly tieKey: number
}

/** A peer to be ranked, with the chooser's RTT measurement to it if any. */
export interface RankCandidate extends PeerPlace {
  /** Round-trip time measured from the chooser to this peer, in ms; undefined when never measured. */
  readonly rttMs?: number | undefined
  /** ALTO cost from the chooser's PID to this peer's (alto-map.ts); undefined when there is no map or no cost. */
  readonly cost?: number | undefined
}

/** Which rules apply. */
export interface RankInit {
  /** Rank by same AS and shared prefix first; default true. */
  proximity?: boolean
  /** Rank by measured RTT; default true. */
  rtt?: boolean
}

/**
 * A peer's 32-bit tie-break key: FNV-1a of its id bytes, with, if given,
 * its address masked as BEP 40 does (/24 for IPv4, /48 for IPv6), so that
 * peers behind one NAT do not all get unrelated priorities.
 */
export function peerTieKey (id: Uint8Array, address?: IpAddress): number {
  let h = 0x811c9dc5
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id[i], 0x01000193)
  if (address !== undefined) {
    if (address.family === 4) h = mixWord(h, address.w3 & 0xffffff00)
    else { h = mixWord(h, address.w0); h = mixWord(h, address.w1 & 0xffff0000) }
  }
  return fmix32(h)
}

/** BEP 40-style priority of a pair of tie keys: symmetric, well mixed, lower ranks first. */
export function pairPriority (keyA: number, keyB: number): number {
  const a = keyA >>> 0
  const b = keyB >>> 0
  const lo = a < b ? a : b
  const hi = a < b ? b : a
  return fmix32(mixWord(mixWord(0x5bd1e995, lo), hi) ^ 8)
}

// Scratch sort keys, grown on demand; the limit is only what callers pass.
let closeness = new Float64Array(128)
let rtts = new Float64Array(128)
let costs = new Float64Array(128)
let ties = new Float64Array(128)
const order: number[] = []
const moved: unknown[] = []

function compareIndex (i: number, j: number): number {
  const c = closeness[j] - closeness[i]
  if (c !== 0) return c
  const ri = rtts[i]
  const rj = rtts[j]
  if (ri !== rj) return ri < rj ? -1 : 1
  return ties[i] - ties[j] || i - j
}

// Rule 3 only when some candidate has a cost: the simulator never gives one, and its sorts stay as fast as before.
function compareIndexWithCost (i: number, j: number): number {
  const c = closeness[j] - closeness[i]
  if (c !== 0) return c
  const ci = costs[i]
  const cj = costs[j]
  if (ci !== cj) return ci < cj ? -1 : 1
  return compareIndex(i, j)
}

function grow (n: number): void {
  if (n <= closeness.length) return
  const size = Math.max(n, closeness.length * 2)
  closeness = new Float64Array(size)
  rtts = new Float64Array(size)
  costs = new Float64Array(size)
  ties = new Float64Array(size)
}

/**
 * Sorts `candidates` in place, nearest to `self` first (rules above), and
 * returns the same array. Deterministic: same inputs, same order.
 */
export function rankPeers<T extends RankCandidate> (self: PeerPlace, candidates: T[], init: RankInit = {}): T[] {
  const n = candidates.length
  if (n < 2) return candidates
  const useProximity = init.proximity !== false
  const useRtt = init.rtt !== false
  grow(n)
  const selfAsn = self.asn
  const selfAddress = self.address
  const selfKey = self.tieKey
  order.length = n
  let anyCost = false
  for (let i = 0; i < n; i++) {
    const c = candidates[i]
    let near = 0
    if (useProximity) {
      if (selfAsn !== 0 && c.asn === selfAsn) near = 256
      if (selfAddress !== undefined && c.address !== undefined) near += sharedPrefixBits(selfAddress, c.address)
    }
    closeness[i] = near
    const cost = c.cost
    if (useProximity && cost !== undefined && cost >= 0) { costs[i] = cost; anyCost = true } else costs[i] = Infinity
    const rtt = c.rttMs
    rtts[i] = (useRtt && rtt !== undefined && rtt >= 0) ? rtt : Infinity
    ties[i] = pairPriority(selfKey, c.tieKey)
    order[i] = i
  }
  order.sort(anyCost ? compareIndexWithCost : compareIndex)
  moved.length = n
  for (let i = 0; i < n; i++) moved[i] = candidates[order[i]]
  for (let i = 0; i < n; i++) candidates[i] = moved[i] as T
  moved.length = 0
  return candidates
}

/** Compares two candidates by the same rules: negative when `a` ranks before `b` for `self`. */
export function comparePeers (self: PeerPlace, a: RankCandidate, b: RankCandidate, init: RankInit = {}): number {
  if (init.proximity !== false) {
    const na = (self.asn !== 0 && a.asn === self.asn ? 256 : 0) + (self.address !== undefined && a.address !== undefined ? sharedPrefixBits(self.address, a.address) : 0)
    const nb = (self.asn !== 0 && b.asn === self.asn ? 256 : 0) + (self.address !== undefined && b.address !== undefined ? sharedPrefixBits(self.address, b.address) : 0)
    if (na !== nb) return nb - na
    const ca = a.cost !== undefined && a.cost >= 0 ? a.cost : Infinity
    const cb = b.cost !== undefined && b.cost >= 0 ? b.cost : Infinity
    if (ca !== cb) return ca < cb ? -1 : 1
  }
  if (init.rtt !== false) {
    const ra = a.rttMs !== undefined && a.rttMs >= 0 ? a.rttMs : Infinity
    const rb = b.rttMs !== undefined && b.rttMs >= 0 ? b.rttMs : Infinity
    if (ra !== rb) return ra < rb ? -1 : 1
  }
  return pairPriority(self.tieKey, a.tieKey) - pairPriority(self.tieKey, b.tieKey)
}
