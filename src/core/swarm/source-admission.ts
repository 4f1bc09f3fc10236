/**
 * Which newly found peers a download takes as sources, given the ones it
 * already has: a pure rule the client applies to every finder answer.
 *
 * Rules:
 * - Candidates come ranked nearest first (rankPeers); each is near (same
 *   AS) or far. At most `maxPeers` peer sources in all.
 * - Room for near peers (`maxFarPeers`): when the downloader knows its AS
 *   (`knowsOwnAs`), far peers take at most `maxFarPeers` of those places.
 *   Finder answers arrive over time (a refind every few hundred ms while a
 *   crowd arrives); without the cap, an early downloader fills every place
 *   with the far peers that happened to start before its AS's other members
 *   and never adds those members, so it fetches the whole item from outside
 *   and its AS fetches it again from it. Without a known AS (no prefix
 *   table, proximity off) everyone is far and the cap does not apply.
 */

/** Default peer sources of one download (origins come on top). */
export const DEFAULT_MAX_PEERS = 8
/** Default time between two finds of one download (peers that joined since, sources that left), ms; it doubles after each find that added no peer. */
export const DEFAULT_REFIND_INTERVAL_MS = 5_000
/** Longest time between two finds of one download, ms (a long-tail item nobody else holds). */
export const MAX_REFIND_INTERVAL_MS = 60_000
/** Default far peer sources of one download when the downloader knows its AS: half the places stay for near peers. */
export const DEFAULT_MAX_FAR_PEERS = 4
/** Times a download tries to open a peer source that could not be opened (SourceChooser.connectFailed) before it gives it up. */
export const MAX_SOURCE_CONNECT_TRIES = 3

/** Limits for admitPeers. */
export interface SourceAdmissionInit {
  /** Peer sources at most. Default DEFAULT_MAX_PEERS (8). */
  maxPeers?: number
  /** Far peer sources at most when `knowsOwnAs`. Default DEFAULT_MAX_FAR_PEERS (4). */
  maxFarPeers?: number
  /** The downloader's own AS is known (proximity on, address in the prefix table). Default false. */
  knowsOwnAs?: boolean
}

/** A ranked candidate: `near` is the same-AS class. */
export interface SourceCandidate<T> {
  item: T
  near: boolean
}

/** The candidates (in their ranked order) to add as sources, given `current` near and far peer sources (see the rules). */
export function admitPeers<T> (ranked: ReadonlyArray<SourceCandidate<T>>, current: { near: number, far: number }, init: SourceAdmissionInit = {}): T[] {
  const maxPeers = init.maxPeers ?? DEFAULT_MAX_PEERS
  const maxFar = init.knowsOwnAs === true ? (init.maxFarPeers ?? DEFAULT_MAX_FAR_PEERS) : Infinity
  let near = current.near
  let far = current.far
  const out: T[] = []
  for (const c of ranked) {
    if (near + far >= maxPeers) break
    if (c.near) near++
    else if (far < maxFar) far++
    else continue
    out.push(c.item)
  }
  return out
}

/** A provider as a download's source chooser sees it: ranked nearest first by the caller (rankPeers); `near` is the same-AS class. */
export interface ProviderCandidate {
  peerId: string
  /** It declared itself an origin seeder: a fallback source, outside the peer count. */
  origin: boolean
  near: boolean
}

/** A source to add to the download's session, with the session's preference (near in [0, 1), far in [1, 2)). */
export interface ChosenSource { peerId: string, isOrigin: boolean, preference: number }

/** Options of a SourceChooser: admitPeers' limits, plus who we are and whether proximity is on. */
export interface SourceChooserInit extends SourceAdmissionInit {
  /** Our own peer id: never a source. */
  self: string
  /** Proximity ranking on: without it nobody is near. Default true. */
  proximity?: boolean
  /** Base time between finds, ms. Default DEFAULT_REFIND_INTERVAL_MS (5 s). */
  refindIntervalMs?: number
}

/**
 * Which providers one download takes as sources, answer after answer:
 * every origin not used yet (fallback), and the peers admitPeers admits,
 * each with a preference from its rank (near peers first). The libp2p
 * client and the simulator both ask this object.
 */
export class SourceChooser {
  private readonly used = new Set<string>()
  private readonly count = { near: 0, far: 0 }
  private refindMs: number
  /**
   * A find is scheduled or running: from a refindAfter that gave a time
   * until the next refindAfter (the shell calls it with each answer). A
   * lost source then starts none: one chain of finds per download. True
   * at first: the download's first find is running (or, with no finder,
   * refindAfter never comes and no find ever starts).
   */
  private findPending = true
  /** Peer -> opens of it that failed so far (connectFailed). */
  private readonly connectFailures = new Map<string, number>()

  constructor (private readonly init: SourceChooserInit) {
    this.refindMs = init.refindIntervalMs ?? DEFAULT_REFIND_INTERVAL_MS
  }

  /** Peer sources chosen so far. */
  get peers (): number { return this.count.near + this.count.far }

  /**
   * A find answered and added `addedPeers` (the download's first answer
   * too): when to find again, ms from now, or undefined when the download
   * has all the peers it may use. The base interval after a useful answer,
   * doubling (up to MAX_REFIND_INTERVAL_MS) after each answer that added
   * nobody. A time given means the shell schedules that find and calls
   * this again with its answer.
   */
  refindAfter (addedPeers: number): number | undefined {
    this.findPending = false
    if (this.peers >= (this.init.maxPeers ?? DEFAULT_MAX_PEERS)) return undefined
    const base = this.init.refindIntervalMs ?? DEFAULT_REFIND_INTERVAL_MS
    this.refindMs = addedPeers > 0 ? base : Math.min(MAX_REFIND_INTERVAL_MS, this.refindMs * 2)
    this.findPending = true
    return this.refindMs
  }

  /** A find answered and `added` became sources from it: refindAfter, where only peers count (an answer that added only origins found nobody new). */
  answered (added: ReadonlyArray<{ readonly isOrigin?: boolean }>): number | undefined {
    let peers = 0
    for (const s of added) if (s.isOrigin !== true) peers++
    return this.refindAfter(peers)
  }

  /** A source the caller added itself (given on the command line): never chosen again. */
  exclude (peerId: string): void { this.used.add(peerId) }

  /** A peer source is gone or never answered: its place may be filled again. */
  lost (peerId: string, near: boolean): void {
    if (!this.used.has(peerId)) return
    if (near && this.count.near > 0) this.count.near--
    else if (this.count.far > 0) this.count.far--
  }

  /**
   * A source's connection closed mid-download: frees its place and, when
   * no find is scheduled or running, says when to find again, ms from now
   * (a lost source counts as a useful answer: the base interval), or
   * undefined when no find should start.
   */
  sourceClosed (peerId: string, near: boolean): number | undefined {
    this.lost(peerId, near)
    return this.findPending ? undefined : this.refindAfter(1)
  }

  /**
   * A chosen peer source could not be opened (dial or handshake failed or
   * timed out): frees its place like sourceClosed, and the peer may be
   * chosen again from a later answer, up to MAX_SOURCE_CONNECT_TRIES opens
   * in all. Why: in a crowd starting together on busy hosts a handshake
   * times out while the peer is starting, and it is the same few peers
   * every answer names; given up for good after one try (or, before, with
   * its place never freed) a downloader was left with the origin alone for
   * the rest of its download (docs/BENCHMARKS.md "1 -> 8 mesh"). The
   * retry waits for the next find (the base interval at least), so a dead
   * peer costs at most MAX_SOURCE_CONNECT_TRIES dials.
   */
  connectFailed (peerId: string, near: boolean): number | undefined {
    if (!this.used.has(peerId)) return undefined
    const failures = (this.connectFailures.get(peerId) ?? 0) + 1
    this.connectFailures.set(peerId, failures)
    this.lost(peerId, near)
    if (failures < MAX_SOURCE_CONNECT_TRIES) this.used.delete(peerId)
    return this.findPending ? undefined : this.refindAfter(1)
  }

  /** Sources to add from a finder answer (`ranked` nearest first). */
  choose (ranked: readonly ProviderCandidate[]): ChosenSource[] {
    const out: ChosenSource[] = []
    const proximity = this.init.proximity !== false
    const peers: Array<{ c: ProviderCandidate, position: number }> = []
    let position = 0
    for (const c of ranked) {
      if (c.peerId === this.init.self) continue
      if (c.origin) {
        if (this.used.has(c.peerId)) continue
        this.used.add(c.peerId)
        out.push({ peerId: c.peerId, isOrigin: true, preference: 0 })
        continue
      }
      const at = position++
      if (!this.used.has(c.peerId)) peers.push({ c, position: at })
    }
    const near = (c: ProviderCandidate): boolean => proximity && c.near
    for (const { c, position: at } of admitPeers(peers.map(p => ({ item: p, near: near(p.c) })), this.count, { ...this.init, knowsOwnAs: proximity && this.init.knowsOwnAs === true })) {
      this.used.add(c.peerId)
      if (near(c)) this.count.near++; else this.count.far++
      const step = at / Math.max(1, position)
      out.push({ peerId: c.peerId, isOrigin: false, preference: (near(c) ? 0 : 1) + 0.99 * step })
    }
    return out
  }
}
