/**
 * Who can open a connection to whom: the home routers in front of peers.
 *
 * Rules:
 * - A peer of a `peer` population is behind a NAT with probability
 *   `behindNatShare`; of those, `symmetricShare` are behind a symmetric
 *   NAT (a new external port per destination), the rest behind a
 *   port-restricted cone NAT. Seeders and fixed-supernode populations are
 *   public: a publisher runs them on reachable hosts.
 * - A NATed peer whose router maps a port by UPnP (`upnpShare` of them) is
 *   reachable like a public one.
 * - Two peers can connect when either is reachable (the other dials it,
 *   or is asked through a relay to dial back), or when a hole punch
 *   between their NAT kinds succeeds. Whether a punch succeeds is drawn
 *   once per pair (a pair's routers behave the same way each time), with
 *   the probability of `punchSuccess` for the pair of kinds.
 *
 * Defaults describe swarmcdn as built: it does not hole-punch (js-libp2p's
 * TCP transport dials from ephemeral ports, so a punch cannot line up with
 * the listen port; docs/ARCHITECTURE.md "Reachability"), so every punch
 * fails and two NATed peers exchange pieces only over a LAN or UPnP.
 * What punching would buy is a scenario away: libp2p's own DCUtR
 * measurement found ~70% of punches succeed over 4.4 million attempts
 * (arXiv 2510.27500), the `DCUTR_PUNCH_SUCCESS` preset (cone-cone 0.7;
 * cone-symmetric 0.1 and symmetric-symmetric 0 are our choice: a
 * symmetric NAT defeats port prediction in most attempts).
 */

/** NAT parameters of a scenario (`network.nat`). */
export interface NatInit {
  /** Share of `peer`-population peers behind a NAT, 0-1. Default 0. */
  behindNatShare?: number
  /** Share of NATed peers behind a symmetric NAT, 0-1. Default 0.2. */
  symmetricShare?: number
  /** Share of NATed peers whose router maps a port by UPnP (then reachable), 0-1. Default 0. */
  upnpShare?: number
  /** Hole-punch success by the pair's NAT kinds. Default 0 for every pair (swarmcdn does not punch over TCP); DCUTR_PUNCH_SUCCESS for what libp2p's DCUtR measured. */
  punchSuccess?: { coneCone?: number, coneSymmetric?: number, symmetricSymmetric?: number }
}

/** Punch success as libp2p's DCUtR measured it (cone-cone) with our guesses for symmetric NATs: `network.nat.punchSuccess` for a what-if run. */
export const DCUTR_PUNCH_SUCCESS = { coneCone: 0.7, coneSymmetric: 0.1, symmetricSymmetric: 0 } as const

export const NAT_PUBLIC = 0
export const NAT_CONE = 1
export const NAT_SYMMETRIC = 2
/** Behind a NAT with a UPnP mapping: reachable. */
export const NAT_MAPPED = 3

/** Resolved NatInit. */
export interface NatParams {
  behindNatShare: number
  symmetricShare: number
  upnpShare: number
  punchSuccess: { coneCone: number, coneSymmetric: number, symmetricSymmetric: number }
}

export function natParams (init: NatInit = {}): NatParams {
  return {
    behindNatShare: init.behindNatShare ?? 0,
    symmetricShare: init.symmetricShare ?? 0.2,
    upnpShare: init.upnpShare ?? 0,
    punchSuccess: {
      coneCone: init.punchSuccess?.coneCone ?? 0,
      coneSymmetric: init.punchSuccess?.coneSymmetric ?? 0,
      symmetricSymmetric: init.punchSuccess?.symmetricSymmetric ?? 0
    }
  }
}

/** Per-node NAT kinds and the connectivity rule above. */
export class NatModel {
  /** NAT_PUBLIC, NAT_CONE, NAT_SYMMETRIC or NAT_MAPPED per node. */
  readonly kindOf: Uint8Array
  readonly params: NatParams
  private readonly salt: number

  /** `natEligible(node)`: may this node be behind a NAT (peers of `peer` populations). `draw` is the model's own random stream. */
  constructor (nodeCount: number, params: NatParams, natEligible: (node: number) => boolean, draw: () => number) {
    this.params = params
    this.kindOf = new Uint8Array(nodeCount)
    this.salt = Math.floor(draw() * 0x7fffffff)
    if (params.behindNatShare <= 0) return
    for (let i = 0; i < nodeCount; i++) {
      if (!natEligible(i) || draw() >= params.behindNatShare) continue
      if (draw() < params.upnpShare) this.kindOf[i] = NAT_MAPPED
      else this.kindOf[i] = draw() < params.symmetricShare ? NAT_SYMMETRIC : NAT_CONE
    }
  }

  /** True when others can dial `node` directly (public, or a UPnP mapping). */
  reachable (node: number): boolean {
    const k = this.kindOf[node]
    return k === NAT_PUBLIC || k === NAT_MAPPED
  }

  /** True when `a` and `b` can hold a direct connection (see the rules above). */
  connectable (a: number, b: number): boolean {
    if (this.reachable(a) || this.reachable(b)) return true
    const ka = this.kindOf[a]; const kb = this.kindOf[b]
    const ps = this.params.punchSuccess
    const p = ka === NAT_CONE && kb === NAT_CONE ? ps.coneCone : ka === NAT_SYMMETRIC && kb === NAT_SYMMETRIC ? ps.symmetricSymmetric : ps.coneSymmetric
    if (p <= 0) return false
    if (p >= 1) return true
    return pairUniform(Math.min(a, b), Math.max(a, b), this.salt) < p
  }
}

/** A uniform [0, 1) number fixed per (lo, hi, salt): the same pair always gets the same punch outcome. */
function pairUniform (lo: number, hi: number, salt: number): number {
  let h = Math.imul(lo ^ salt, 0x9e3779b1) ^ Math.imul(hi + 0x7f4a7c15, 0x85ebca6b)
  h ^= h >>> 16; h = Math.imul(h, 0x7feb352d); h ^= h >>> 15; h = Math.imul(h, 0x846ca68b); h ^= h >>> 16
  return (h >>> 0) / 4294967296
}
