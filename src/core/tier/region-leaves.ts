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
 * - A leaf indexes nobody and counts itself only (1); the policy's
 *   minimum supernodes per region covers that case.
 */

/** What a peer knows for the estimate. */
export interface RegionLeavesInput {
  /** Leaves attached to this peer whose region is this peer's. */
  attachedInRegion: number
  /** Supernodes known in the region, this peer included if it is one. */
  regionSupernodes: number
  /** Supernodes each leaf attaches to (LeafAttachment's targetAttachments). */
  attachmentsPerLeaf: number
  /** True when this peer is a leaf itself. */
  selfIsLeaf: boolean
}

/** Estimated leaves in the region, at least 1. */
export function estimateRegionLeaves (i: RegionLeavesInput): number {
  if (i.selfIsLeaf) return 1 + i.attachedInRegion
  const share = Math.max(1, i.regionSupernodes / Math.max(1, i.attachmentsPerLeaf))
  return Math.max(1, Math.round(i.attachedInRegion * share))
}
