/**
 * A scenario is data: every parameter of a run, named, with units in the
 * names. Files in sim/scenarios/ are partial scenarios; load-scenario.ts
 * validates them and fills the defaults documented here and in
 * sim/README.md.
 */
import type { NatParams } from '../models/nat.js'
import type { Law } from '../models/distributions.js'
import type { AccessClass, LatencyInit } from '../models/network.js'

/** Roles the model layer knows; the tier protocol will promote peers later. */
export type NodeRole = 'peer' | 'supernode'

/** A group of nodes sharing a role and a churn law. */
export interface Population {
  /** Label used in outputs. */
  name: string
  /** Static role; default 'peer'. */
  role: NodeRole
  /** Number of nodes. */
  count: number
  /** Churn preset name (see CHURN_PRESETS) after overrides; default 'none'. */
  churnPreset: string
  /** Session length law, seconds (from the preset unless given). */
  sessionS: Law
  /** Offline period law, seconds (from the preset unless given). */
  offS: Law
  /** 'stationary' (E[on]/(E[on]+E[off])), 'all', or a fraction in [0, 1]; default 'stationary'. */
  initialOnline: 'stationary' | 'all' | number
}

/** Lose a fraction of the supernodes online at `atS`. */
export interface LoseSupernodesFault { type: 'lose-supernodes', atS: number, fraction: number, downS: number | null }
/** Lose a fraction of the online nodes (of one role, or any). */
export interface LoseNodesFault { type: 'lose-nodes', atS: number, fraction: number, role: NodeRole | 'any', downS: number | null }
/** A fraction of online nodes each go down at a uniform time in [atS, atS + windowS] and come back downS later. */
export interface MassRestartFault { type: 'mass-restart', atS: number, fraction: number, windowS: number, downS: number }
/** Origin seeder number `seeder` (0-based) goes down. */
export interface LoseSeederFault { type: 'lose-seeder', atS: number, seeder: number, downS: number | null }
/** Every node in one AS goes down: `asn`, or the AS holding the `asRank`-th most nodes. */
export interface LoseAsFault { type: 'lose-as', atS: number, asn: number | null, asRank: number, downS: number | null }

/** A scheduled fault; downS null means the victims never return. */
export type Fault = LoseSupernodesFault | LoseNodesFault | MassRestartFault | LoseSeederFault | LoseAsFault

/** A flash crowd: requests for one item at rate peak·exp(−(t − atS)/decayS). */
export interface FlashCrowd {
  /** Release time, seconds. */
  atS: number
  /** Popularity rank of the item (1 = most popular). */
  itemRank: number
  /** Arrival rate at release, requests per second (whole network). */
  peakRequestsPerSec: number
  /** Decay time constant τ, seconds. */
  decayS: number
}

/** One request of a script: node `node` (index over the populations in order) asks for `itemRank` at `atS` (skipped if it is offline then). */
export interface ScriptedRequest { atS: number, node: number, itemRank: number }

/** A fully resolved scenario. */
export interface Scenario {
  /** Short name; default the file name. */
  name: string
  /** What the run shows; default ''. */
  description: string
  /** Run seed, 32-bit unsigned; default 1 (the CLI's --seed overrides). */
  seed: number
  /** Simulated time, seconds; default 86400 (one day). */
  durationS: number
  /** Metric sampling period, seconds; default 60. */
  sampleIntervalS: number
  /** Recovery means a sampled metric is back to this fraction of its pre-fault value; default 0.9. */
  recoveryThreshold: number
  network: {
    /** ASes peers are placed in, drawn ∝ address space; 0 = all; default 500. */
    asCount: number
    /** Prefix-to-AS CSV; null = @ip-location-db/asn IPv4 table; default null. */
    asCsvPath: string | null
    /** One-way latencies by relation; defaults 5 / 30 / 100 ms, jitter 0.2. */
    latency: Required<LatencyInit>
    /** Access link mix; default DEFAULT_ACCESS_CLASSES. */
    accessClasses: AccessClass[]
    /** Home routers: share of peers behind NATs, their kinds, UPnP, hole-punch success (models/nat.ts); default nobody behind a NAT. */
    nat: NatParams
  }
  /** Node groups; at least one. */
  populations: Population[]
  seeders: {
    /** Origin seeders (always on unless a fault hits them); default 1. */
    count: number
    /** Upload per seeder, bytes/s; default 125,000,000 (1 Gbit/s). */
    upBytesPerSec: number
    /** Download per seeder, bytes/s; default 125,000,000. */
    downBytesPerSec: number
  }
  /** Diurnal modulation of arrivals (requests and churn re-joins); amplitude 0 = off (default). */
  diurnal: { amplitude: number, peakHour: number }
  workload: {
    /** Items in the catalog; default 1000. */
    catalogItems: number
    /** Zipf exponent s (rank r has weight 1/r^s); default 0.8. */
    zipfExponent: number
    /** Item size law, bytes; default fixed 100 MiB. */
    itemSizeBytes: Law
    /** Each online peer requests at this Poisson rate (thinned), per hour; default 0. */
    requestsPerOnlinePeerPerHour: number
    /** Flash crowds; default none. */
    flashCrowds: FlashCrowd[]
    /** Requests at fixed times by fixed nodes (scripts, conformance tests); default none. */
    requests: ScriptedRequest[]
  }
  /** Scheduled faults; default none. */
  faults: Fault[]
  protocol: {
    /** 'origin-baseline' (the only flow wired now), 'kademlia' or 'swarmcdn'; default 'origin-baseline'. */
    kind: 'origin-baseline' | 'kademlia' | 'swarmcdn'
    /** Protocol parameters, passed untouched to the protocol's node adapter; default {}. */
    params: Record<string, unknown>
  }
}
