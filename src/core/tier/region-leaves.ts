/**
 * How many leaves a supernode's region has, estimated from the leaves
 * attached to it (SupernodePolicy's `regionLeaves` input).
 *
 * Rules:
 * - Only attached leaves of this supernode's own region count (their
 *   network: AS, else address prefix), as the policy needs a region's
 *   leaves, not everyone who attached from afar.
 * - Each leaf attaches to `attachmentsPerLeaf` supernodes of the region's
 *   `regionSupernodes` (or to all of them when there are fewer), so one
 *   supernode sees that share of the region's leaves:
 *   leaves ~ attachedInRegion * max(1, regionSupernodes / attachmentsPerLeaf).
 * - A leaf indexes nobody: it takes the leaf counts its attached supernodes
 *   of its region reported when they took it (attach-ok), their mean as one
 *   supernode's share, scaled the same way; with none, itself (1). Those
 *   counts include leaves from other regions, so a leaf's estimate is high
 *   where leaves attach across regions (the supernode's own, filtered by
 *   network, is not).
 */

/** What a peer knows for the estimate. */
export interface RegionLeavesInput {
  /** Leaves attached to this peer whose region is this peer's (a supernode). */
  attachedInRegion: number
  /** Leaf counts reported by the attached supernodes of this peer's region (a leaf). */
  supernodeLeafCounts?: readonly number[]
  /** Supernodes known in the region, this peer included if it is one. */
  regionSupernodes: number
  /** Supernodes each leaf attaches to (LeafAttachment's targetAttachments). */
  attachmentsPerLeaf: number
  /** True when this peer is a leaf itself. */
  selfIsLeaf: boolean
}

/** Estimated leaves in the region, at least 1. */
export function estimateRegionLeaves (i: RegionLeavesInput): number {
  const share = Math.max(1, i.regionSupernodes / Math.max(1, i.attachmentsPerLeaf))
  if (i.selfIsLeaf) {
    const counts = i.supernodeLeafCounts ?? []
    if (counts.length === 0) return 1
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length
    return Math.max(1, Math.round(mean * share))
  }
  return Math.max(1, Math.round(i.attachedInRegion * share))
}
