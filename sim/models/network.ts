/**
 * The model network: where each node sits (AS, IPv4 address, region), how
 * long a message takes between two nodes, and each node's access link.
 *
 * Rules:
 * - Relation: same AS; else same region; else other. A region is the
 *   address's first octet (its /8): IANA handed /8 blocks to the regional
 *   registries, so a shared /8 is a coarse "same continent / same registry"
 *   signal. It is a proxy, not geography.
 * - One-way latency = base(relation) · (1 + jitterFraction · u), u uniform
 *   in [0, 1) from the jitter stream, drawn per message.
 * - A transfer of B bytes takes latency + B / rate, where rate =
 *   min(sender upload / (sender's uploads in progress + 1), receiver
 *   download / (receiver's downloads in progress + 1)), frozen when the
 *   transfer starts (fair share at admission; no re-sharing later). Small
 *   control messages use the same formula without the fair-share divisor.
 */
import type { Rng } from '../engine/rng.js'
import { AsSubset, type AsTable } from './as-placement.js'

/** One class of access link and its share of the population. */
export interface AccessClass {
  /** Label, e.g. "cable". */
  name: string
  /** Share of nodes in this class; shares are normalised. */
  share: number
  /** Upload capacity, bytes per second. */
  upBytesPerSec: number
  /** Download capacity, bytes per second. */
  downBytesPerSec: number
}

/**
 * Default residential access mix (our choice, round numbers typical of
 * 2020s consumer offers): DSL 8/1 Mbit/s, cable 100/10, fibre 500/200,
 * mobile 30/8.
 */
export const DEFAULT_ACCESS_CLASSES: AccessClass[] = [
  { name: 'dsl', share: 0.2, downBytesPerSec: 1_000_000, upBytesPerSec: 125_000 },
  { name: 'cable', share: 0.35, downBytesPerSec: 12_500_000, upBytesPerSec: 1_250_000 },
  { name: 'fibre', share: 0.3, downBytesPerSec: 62_500_000, upBytesPerSec: 25_000_000 },
  { name: 'mobile', share: 0.15, downBytesPerSec: 3_750_000, upBytesPerSec: 1_000_000 }
]

/** Latency parameters, one-way, milliseconds. */
export interface LatencyInit {
  /** Both ends in the same AS; default 5. */
  sameAsMs?: number
  /** Different AS, same region (/8); default 30. */
  sameRegionMs?: number
  /** Anything else; default 100. */
  otherMs?: number
  /** Per-message multiplicative jitter in [0, jitterFraction); default 0.2. */
  jitterFraction?: number
}

/** Relation codes returned by NetworkModel.relation. */
export const RELATION_SAME_AS = 0
/** Different AS, same /8. */
export const RELATION_SAME_REGION = 1
/** Different AS and /8. */
export const RELATION_OTHER = 2

/** Per-node placement and capacity, in typed arrays indexed by node. */
export class NetworkModel {
  /** Subset member index (AS) of each node. */
  readonly asOf: Int32Array
  /** IPv4 address of each node. */
  readonly ipOf: Uint32Array
  /** Upload capacity, bytes/s. */
  readonly upBps: Float64Array
  /** Download capacity, bytes/s. */
  readonly downBps: Float64Array
  /** Access class index of each node. */
  readonly classOf: Uint8Array
  /** Uploads in progress per node (fair-share divisor). */
  readonly activeUploads: Int32Array
  /** Downloads in progress per node. */
  readonly activeDownloads: Int32Array
  readonly latency: Required<LatencyInit>
  readonly ases: AsSubset

  constructor (nodeCount: number, table: AsTable, init: { asCount: number, latency: Required<LatencyInit>, accessClasses: AccessClass[] }, placementRng: Rng) {
    this.ases = new AsSubset(table, init.asCount, placementRng)
    this.latency = init.latency
    this.asOf = new Int32Array(nodeCount)
    this.ipOf = new Uint32Array(nodeCount)
    this.upBps = new Float64Array(nodeCount)
    this.downBps = new Float64Array(nodeCount)
    this.classOf = new Uint8Array(nodeCount)
    this.activeUploads = new Int32Array(nodeCount)
    this.activeDownloads = new Int32Array(nodeCount)
    const total = init.accessClasses.reduce((s, c) => s + c.share, 0)
    for (let i = 0; i < nodeCount; i++) {
      const a = this.ases.pickAs(placementRng)
      this.asOf[i] = a
      this.ipOf[i] = this.ases.pickAddress(a, placementRng)
      let u = placementRng.float() * total
      let c = 0
      while (c < init.accessClasses.length - 1 && u >= init.accessClasses[c].share) { u -= init.accessClasses[c].share; c++ }
      this.setClass(i, c, init.accessClasses[c])
    }
  }

  /** Overrides a node's access link (seeders get their own capacities). */
  setClass (node: number, classIndex: number, c: Pick<AccessClass, 'upBytesPerSec' | 'downBytesPerSec'>): void {
    this.classOf[node] = classIndex
    this.upBps[node] = c.upBytesPerSec
    this.downBps[node] = c.downBytesPerSec
  }

  /** AS number of a node. */
  asnOf (node: number): number { return this.ases.asn(this.asOf[node]) }

  /** Region (/8) of a node. */
  regionOf (node: number): number { return this.ipOf[node] >>> 24 }

  /** RELATION_SAME_AS, RELATION_SAME_REGION or RELATION_OTHER. */
  relation (a: number, b: number): number {
    if (this.asOf[a] === this.asOf[b]) return RELATION_SAME_AS
    if ((this.ipOf[a] >>> 24) === (this.ipOf[b] >>> 24)) return RELATION_SAME_REGION
    return RELATION_OTHER
  }

  /** Base one-way latency between two nodes without jitter, ms. */
  baseLatencyMs (a: number, b: number): number {
    const r = this.relation(a, b)
    return r === RELATION_SAME_AS ? this.latency.sameAsMs : r === RELATION_SAME_REGION ? this.latency.sameRegionMs : this.latency.otherMs
  }

  /** One-way latency with jitter, ms. */
  latencyMs (a: number, b: number, jitter: Rng): number {
    const base = this.baseLatencyMs(a, b)
    return this.latency.jitterFraction === 0 ? base : base * (1 + this.latency.jitterFraction * jitter.float())
  }

  /** Rate a new transfer from → to would get now (fair share at admission), bytes/s. */
  admissionRateBps (from: number, to: number): number {
    return Math.min(this.upBps[from] / (this.activeUploads[from] + 1), this.downBps[to] / (this.activeDownloads[to] + 1))
  }

  /** Time a small message takes: latency + size / min(up, down), ms. */
  messageDelayMs (from: number, to: number, sizeBytes: number, jitter: Rng): number {
    return this.latencyMs(from, to, jitter) + sizeBytes * 1000 / Math.min(this.upBps[from], this.downBps[to])
  }
}
