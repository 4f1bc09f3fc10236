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
/** Default far peer sources of one download when the downloader knows its AS: half the places stay for near peers. */
export const DEFAULT_MAX_FAR_PEERS = 4

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
