/**
 * Which seeders of a fleet own an item: rendezvous (highest-random-weight)
 * hashing, Thaler and Ravishankar, "Using name-based mappings to increase
 * hit rates", IEEE/ACM ToN 1998.
 *
 * Rules:
 * - Each (item, seeder) pair has a weight: the first 8 bytes of
 *   SHA-256(context || content id || 0 || peer id), big-endian. An item's
 *   owners are the `replication` seeders of highest weight; ties (never
 *   seen in practice) go to the lower peer id.
 * - The whole order, not just the owners, is the order a client tries
 *   origins in: owners first, then the others, so failing over never
 *   needs a second rule.
 * - Adding a seeder moves to it exactly the items where it enters the top
 *   `replication`; removing one moves only its own items, each to the next
 *   seeder in that item's order. Nothing else changes (planFleetChange).
 */
import { createHash } from 'node:crypto'

/** Default replication factor: seeders that hold each item. */
export const DEFAULT_FLEET_REPLICATION = 2
/** Domain separation of the weights (a new rule gets a new context, never a silent re-shuffle). */
const WEIGHT_CONTEXT = 'swarmcdn-hrw-v1\0'

function weight (contentId: string, peerId: string): bigint {
  return createHash('sha256').update(WEIGHT_CONTEXT).update(contentId).update('\0').update(peerId).digest().readBigUInt64BE(0)
}

/** Every peer id, highest weight for `contentId` first: the order owners are chosen and tried in. */
export function rendezvousOrder (contentId: string, peerIds: readonly string[]): string[] {
  return peerIds
    .map(id => ({ id, w: weight(contentId, id) }))
    .sort((a, b) => a.w === b.w ? (a.id < b.id ? -1 : 1) : (a.w > b.w ? -1 : 1))
    .map(e => e.id)
}

/** The `replication` seeders (default 2) that own `contentId`, in rendezvous order. */
export function fleetOwners (contentId: string, peerIds: readonly string[], replication = DEFAULT_FLEET_REPLICATION): string[] {
  if (!Number.isSafeInteger(replication) || replication < 1) throw new RangeError(`replication must be a positive integer, got ${replication}`)
  return rendezvousOrder(contentId, peerIds).slice(0, replication)
}

/** One item whose owners change. */
export interface FleetMove {
  contentId: string
  /** Seeders that must get a copy. */
  gains: string[]
  /** Seeders that no longer own it (may drop it once the gainers hold it). */
  losses: string[]
}

/** The items (of `contentIds`) whose owners differ between two fleets (and replication factors), with who gains and who loses each; items that stay put are not listed. */
export function planFleetChange (contentIds: readonly string[], before: readonly string[], after: readonly string[], replication = DEFAULT_FLEET_REPLICATION, replicationAfter = replication): FleetMove[] {
  const moves: FleetMove[] = []
  for (const contentId of contentIds) {
    const was = new Set(fleetOwners(contentId, before, replication))
    const will = fleetOwners(contentId, after, replicationAfter)
    const gains = will.filter(id => !was.has(id))
    const losses = [...was].filter(id => !will.includes(id))
    if (gains.length > 0 || losses.length > 0) moves.push({ contentId, gains, losses })
  }
  return moves
}
