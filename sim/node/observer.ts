import type { LocalityClass } from '../../src/core/proximity/locality.js'

/**
 * Observers see what happens in a run and never change it (PeerSim style:
 * protocols, controls and observers are separate). Every method is
 * optional; the world calls them synchronously as events are handled.
 */

/** Why a node went offline. */
export type DownCause = 'churn' | 'fault'

/** A completed or aborted transfer. */
export interface TransferRecord {
  from: number
  to: number
  bytes: number
  startMs: number
  endMs: number
  /** The sender is an origin seeder. */
  fromSeeder: boolean
  /** Both ends in the same AS (locality 'same-as'). */
  sameAs: boolean
  /** The transit class of the transfer (core/proximity/locality.ts, the client's rule). */
  locality: LocalityClass
}

/** Receives the world's events. */
export interface SimObserver {
  onNodeUp?: (node: number, nowMs: number) => void
  onNodeDown?: (node: number, nowMs: number, cause: DownCause) => void
  onRequest?: (node: number, itemRank: number, nowMs: number) => void
  /** A request that found no origin seeder online. */
  onRequestFailed?: (node: number, itemRank: number, nowMs: number) => void
  onTransferDone?: (t: TransferRecord) => void
  onTransferAborted?: (t: TransferRecord) => void
  /** A fault was applied; `victims` nodes went down because of it. */
  onFault?: (index: number, type: string, victims: number, nowMs: number) => void
  /** Content bytes arrived from `from` at `to` (protocol flows: one piece), with the transfer's transit class. */
  onBytes?: (from: number, to: number, bytes: number, fromSeeder: boolean, sameAs: boolean, nowMs: number, locality: LocalityClass) => void
  /** A protocol download of `itemRank` ended: completed, or given up (node left, no source). */
  onDownload?: (node: number, itemRank: number, startMs: number, endMs: number, bytes: number, completed: boolean) => void
  /** A protocol 'observe' effect. */
  onObserve?: (node: number, name: string, value: number, nowMs: number) => void
  /** Periodic sample point (every sampleIntervalS) and once at the end. */
  onSample?: (nowMs: number) => void
}
