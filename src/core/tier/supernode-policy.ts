/**
 * When a peer promotes itself to supernode or demotes back to leaf.
 *
 * Rules:
 * - A region (the peer's AS, else its IP prefix) needs
 *   max(minSupernodesPerRegion, ceil(leaves / targetLeavesPerSupernode))
 *   supernodes.
 * - A leaf is eligible when up for `minUptimeMs`, reachable (dialable from
 *   outside) and with `minSpareUploadBytesPerSec` spare upload. An eligible
 *   leaf in a region short of supernodes promotes with probability
 *   min(1, promoteFanout * deficit / leaves), so that about `promoteFanout *
 *   deficit` of the region's leaves step up per check rather than all of them.
 * - A supernode demotes only when its region has more than `demoteSlack`
 *   times what it needs, after `minTenureMs` in the role, with probability
 *   (surplus / supernodes); the wide hysteresis band prevents flapping.
 * - Load never causes demotion: an overloaded supernode sheds new leaves
 *   (see supernode-index) but stays, so a tier that lost a quarter of its
 *   members does not collapse as survivors take the extra leaves.
 * - Seeders are permanent DHT members: always supernode-like, never demoted.
 */

/** Role of a node in the overlay. */
export type OverlayRole = 'leaf' | 'supernode' | 'seeder'

/** Options of SupernodePolicy, all with documented defaults. */
export interface SupernodePolicyInit {
  /** Uptime required before promotion, in ms. Default 30 min. */
  minUptimeMs?: number
  /** Spare upload required before promotion, in bytes/s. Default 512 KiB/s. */
  minSpareUploadBytesPerSec?: number
  /** Leaves one supernode is meant to serve. Default 50. */
  targetLeavesPerSupernode?: number
  /** Supernodes every region with leaves should have (redundancy for 2-3 attachments). Default 3. */
  minSupernodesPerRegion?: number
  /** Demote only when supernodes exceed this multiple of the need. Default 2. */
  demoteSlack?: number
  /** Time in the supernode role before demotion is considered, in ms. Default 1 h. */
  minTenureMs?: number
  /** Expected promotions per missing supernode per check (over-provisions for churn). Default 2. */
  promoteFanout?: number
  /** Uniform random in [0, 1); seeded in the simulator. Required: core has no Math.random. */
  random: () => number
}

/** What a node knows about itself and its region at one check. */
export interface PolicyInput {
  nowMs: number
  role: OverlayRole
  /** When this process came up, in ms. */
  upSinceMs: number
  /** When it took its current role, in ms. */
  roleSinceMs: number
  /** Whether others can dial it (observed via identify / autonat, or configured). */
  reachable: boolean
  /** Upload capacity not used by transfers, in bytes/s. */
  spareUploadBytesPerSec: number
  /** Supernodes known in its region (itself included if it is one). */
  regionSupernodes: number
  /** Leaves known in its region (itself included if it is one). */
  regionLeaves: number
}

/** Outcome of one policy check. */
export interface PolicyDecision { action: 'promote' | 'demote' | 'stay', reason: string }

/** Supernode promotion/demotion rules; a pure function of its input plus injected randomness. */
export class SupernodePolicy {
  readonly minUptimeMs: number
  readonly minSpareUploadBytesPerSec: number
  readonly targetLeavesPerSupernode: number
  readonly minSupernodesPerRegion: number
  readonly demoteSlack: number
  readonly minTenureMs: number
  readonly promoteFanout: number
  private readonly random: () => number

  constructor (init: SupernodePolicyInit) {
    this.minUptimeMs = init.minUptimeMs ?? 30 * 60 * 1000
    this.minSpareUploadBytesPerSec = init.minSpareUploadBytesPerSec ?? 512 * 1024
    this.targetLeavesPerSupernode = init.targetLeavesPerSupernode ?? 50
    this.minSupernodesPerRegion = init.minSupernodesPerRegion ?? 3
    this.demoteSlack = init.demoteSlack ?? 2
    this.minTenureMs = init.minTenureMs ?? 60 * 60 * 1000
    this.promoteFanout = init.promoteFanout ?? 2
    this.random = init.random
    if (this.targetLeavesPerSupernode <= 0) throw new RangeError('targetLeavesPerSupernode must be positive')
    if (this.demoteSlack < 1) throw new RangeError('demoteSlack must be at least 1')
  }

  /** Supernodes a region with `leaves` leaves needs. */
  neededSupernodes (leaves: number): number {
    return Math.max(this.minSupernodesPerRegion, Math.ceil(leaves / this.targetLeavesPerSupernode))
  }

  /** True when a leaf meets the uptime, reachability and spare-upload bars. */
  eligible (i: PolicyInput): boolean {
    return i.reachable && i.nowMs - i.upSinceMs >= this.minUptimeMs && i.spareUploadBytesPerSec >= this.minSpareUploadBytesPerSec
  }

  /** Decides whether to promote, demote or stay. */
  decide (i: PolicyInput): PolicyDecision {
    if (i.role === 'seeder') return { action: 'stay', reason: 'seeders never demote' }
    const needed = this.neededSupernodes(i.regionLeaves)
    if (i.role === 'leaf') {
      if (!this.eligible(i)) return { action: 'stay', reason: 'not eligible' }
      const deficit = needed - i.regionSupernodes
      if (deficit <= 0) return { action: 'stay', reason: 'region has enough supernodes' }
      const p = Math.min(1, this.promoteFanout * deficit / Math.max(1, i.regionLeaves))
      return this.random() < p
        ? { action: 'promote', reason: `region has ${i.regionSupernodes} of ${needed} supernodes` }
        : { action: 'stay', reason: 'another leaf is expected to promote' }
    }
    if (i.nowMs - i.roleSinceMs < this.minTenureMs) return { action: 'stay', reason: 'tenure too short' }
    const surplus = i.regionSupernodes - needed * this.demoteSlack
    if (surplus <= 0) return { action: 'stay', reason: 'region does not have too many supernodes' }
    return this.random() < surplus / i.regionSupernodes
      ? { action: 'demote', reason: `region has ${i.regionSupernodes} supernodes for a need of ${needed}` }
      : { action: 'stay', reason: 'another supernode is expected to demote' }
  }
}
