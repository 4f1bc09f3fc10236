/**
 * Whether this peer can be dialled from the internet, and on which
 * addresses: the verdicts of peers that dialled us back (AutoNAT-style,
 * libp2p AutoNAT v1 spec: https://github.com/libp2p/specs/blob/master/autonat/autonat-v1.md).
 *
 * Rules:
 * - A verdict is (verifier, its network, address, dialable or not). A
 *   verifier's network is its IPv4 /24 or IPv6 /48: several peer ids on one
 *   host or subnet are one voice, so one host alone cannot make us believe
 *   (or disbelieve) an address.
 * - An address is confirmed when `minConfirmations` distinct networks
 *   dialled it within `verdictTtlMs`, and refuted when as many failed to
 *   and none succeeded. A network's newer verdict replaces its older one.
 * - Reachability is `public` when some address is confirmed, `private`
 *   when every address with enough verdicts is refuted, else `unknown`.
 *   Only `public` makes a peer eligible as a supernode.
 * - Limits: `maxAddresses` addresses (the oldest verdicts go first) and
 *   `maxVerdictsPerAddress` networks per address, so a flood of reports
 *   cannot grow memory.
 */
import { addressScope, tryParseIpAddress, type IpAddress } from '../proximity/ip-address.js'

/** What the peer believes about its own reachability. */
export type Reachability = 'unknown' | 'public' | 'private'

/** One dial-back result reported by a verifier. */
export interface ReachVerdict {
  /** Peer id of the verifier. */
  verifier: string
  /** IP address the verifier is seen from (its network is the unit of trust). */
  verifierIp: string
  /** Our address the verifier was asked to dial (a multiaddr string). */
  addr: string
  /** Whether its dial-back reached us. */
  dialable: boolean
}

/** Options of ReachabilityTracker, all with documented defaults. */
export interface ReachabilityInit {
  /** Distinct verifier networks needed to confirm or refute an address. Default 2. */
  minConfirmations?: number
  /** How long a verdict counts, in ms. Default 30 min. */
  verdictTtlMs?: number
  /** Addresses tracked at once. Default 8. */
  maxAddresses?: number
  /** Verifier networks kept per address. Default 16. */
  maxVerdictsPerAddress?: number
}

/** Defaults of ReachabilityInit. */
export const REACHABILITY_DEFAULTS = { minConfirmations: 2, verdictTtlMs: 30 * 60_000, maxAddresses: 8, maxVerdictsPerAddress: 16 } as const

/** A snapshot for status documents. */
export interface ReachabilityStatus {
  reachability: Reachability
  /** Addresses confirmed by enough verifier networks. */
  confirmedAddrs: string[]
  /** Addresses refuted by enough verifier networks. */
  refutedAddrs: string[]
  /** Verifier networks heard from, over all addresses (within the TTL). */
  verifierNetworks: number
}

/** Thrown for invalid ReachabilityInit values. */
export class ReachabilityOptionError extends Error {
  override name = 'ReachabilityOptionError'
}

interface Vote { dialable: boolean, atMs: number }

/** The network key of a verifier: /24 for IPv4, /48 for IPv6; the text itself when it does not parse. */
export function verifierNetwork (ip: string): string {
  const a: IpAddress | undefined = tryParseIpAddress(ip)
  if (a === undefined) return ip
  if (a.family === 4) return `4:${(a.w3 >>> 8).toString(16)}`
  return `6:${a.w0.toString(16)}:${(a.w1 >>> 16).toString(16)}`
}

/** Dial-back verdicts per own address, and the reachability they add up to. Pure: time is passed in. */
export class ReachabilityTracker {
  readonly minConfirmations: number
  readonly verdictTtlMs: number
  readonly maxAddresses: number
  readonly maxVerdictsPerAddress: number
  private readonly votes = new Map<string, Map<string, Vote>>()

  constructor (init: ReachabilityInit = {}) {
    this.minConfirmations = init.minConfirmations ?? REACHABILITY_DEFAULTS.minConfirmations
    this.verdictTtlMs = init.verdictTtlMs ?? REACHABILITY_DEFAULTS.verdictTtlMs
    this.maxAddresses = init.maxAddresses ?? REACHABILITY_DEFAULTS.maxAddresses
    this.maxVerdictsPerAddress = init.maxVerdictsPerAddress ?? REACHABILITY_DEFAULTS.maxVerdictsPerAddress
    for (const [name, v] of Object.entries({ minConfirmations: this.minConfirmations, maxAddresses: this.maxAddresses, maxVerdictsPerAddress: this.maxVerdictsPerAddress })) {
      if (!Number.isSafeInteger(v) || v < 1) throw new ReachabilityOptionError(`${name} must be a positive integer, got ${v}`)
    }
    if (!(this.verdictTtlMs > 0)) throw new ReachabilityOptionError(`verdictTtlMs must be positive, got ${this.verdictTtlMs}`)
    if (this.minConfirmations > this.maxVerdictsPerAddress) throw new ReachabilityOptionError('minConfirmations must not exceed maxVerdictsPerAddress')
  }

  /** Records one verdict. */
  report (nowMs: number, v: ReachVerdict): void {
    this.expire(nowMs)
    let perAddr = this.votes.get(v.addr)
    if (perAddr === undefined) {
      if (this.votes.size >= this.maxAddresses) this.evictOldestAddress()
      perAddr = new Map()
      this.votes.set(v.addr, perAddr)
    }
    const net = verifierNetwork(v.verifierIp)
    perAddr.delete(net)
    if (perAddr.size >= this.maxVerdictsPerAddress) {
      const oldest = perAddr.keys().next().value
      if (oldest !== undefined) perAddr.delete(oldest)
    }
    perAddr.set(net, { dialable: v.dialable, atMs: nowMs })
  }

  /** The path to `addr` changed (a router now forwards its port): earlier verdicts about it say nothing any more. */
  forget (addr: string): void {
    this.votes.delete(addr)
  }

  /** True when verdicts for `addr` are still needed (neither confirmed nor refuted). */
  undecided (nowMs: number, addr: string): boolean {
    return this.verdictOf(nowMs, addr) === undefined
  }

  /** Confirmed (true), refuted (false) or undecided (undefined). */
  verdictOf (nowMs: number, addr: string): boolean | undefined {
    const perAddr = this.votes.get(addr)
    if (perAddr === undefined) return undefined
    let yes = 0
    let no = 0
    for (const vote of perAddr.values()) {
      if (nowMs - vote.atMs > this.verdictTtlMs) continue
      if (vote.dialable) yes++
      else no++
    }
    if (yes >= this.minConfirmations) return true
    if (no >= this.minConfirmations && yes === 0) return false
    return undefined
  }

  /** The reachability the verdicts add up to. */
  status (nowMs: number): ReachabilityStatus {
    const confirmedAddrs: string[] = []
    const refutedAddrs: string[] = []
    const nets = new Set<string>()
    for (const [addr, perAddr] of this.votes) {
      for (const [net, vote] of perAddr) if (nowMs - vote.atMs <= this.verdictTtlMs) nets.add(net)
      const v = this.verdictOf(nowMs, addr)
      if (v === true) confirmedAddrs.push(addr)
      else if (v === false) refutedAddrs.push(addr)
    }
    const reachability: Reachability = confirmedAddrs.length > 0 ? 'public' : refutedAddrs.length > 0 ? 'private' : 'unknown'
    return { reachability, confirmedAddrs, refutedAddrs, verifierNetworks: nets.size }
  }

  /** True when some address is confirmed. */
  reachable (nowMs: number): boolean {
    for (const addr of this.votes.keys()) if (this.verdictOf(nowMs, addr) === true) return true
    return false
  }

  private expire (nowMs: number): void {
    for (const [addr, perAddr] of this.votes) {
      for (const [net, vote] of perAddr) if (nowMs - vote.atMs > this.verdictTtlMs) perAddr.delete(net)
      if (perAddr.size === 0) this.votes.delete(addr)
    }
  }

  private evictOldestAddress (): void {
    let oldestAddr: string | undefined
    let oldestMs = Infinity
    for (const [addr, perAddr] of this.votes) {
      let newest = -Infinity
      for (const vote of perAddr.values()) newest = Math.max(newest, vote.atMs)
      if (newest < oldestMs) { oldestMs = newest; oldestAddr = addr }
    }
    if (oldestAddr !== undefined) this.votes.delete(oldestAddr)
  }
}

/** True when an IP could be dialled from the internet at all (not loopback, private or link-local). */
export function mayBePublic (ip: string): boolean {
  const a = tryParseIpAddress(ip)
  return a !== undefined && addressScope(a) === 'public'
}
