/**
 * The publisher's side of a fleet: offer items to their owners. A
 * temporary swarm peer serves the publisher's store; each owner is asked
 * on the fleet protocol to fetch the item from it and answers once the
 * item is in its own store ("held", "fetched") or why not ("refused").
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { ContentId } from '../src/core/content/content-id.js'
import { recordOwners, type FleetRecord } from '../src/core/fleet/fleet-record.js'
import { requestFleetFetch } from '../src/net/fleet-protocol.js'
import { startSwarmPeer } from '../src/client/swarm-peer.js'
import type { ContentStore } from '../src/store/content-store.js'

/** Copies in flight at once. */
const COPY_CONCURRENCY = 4

/** What one owner did with one item. */
export interface FleetCopyResult {
  contentId: ContentId
  peerId: string
  /** 'held', 'fetched' or 'refused' (the seeder's answer), 'failed' (no answer from any of its addresses). */
  outcome: 'held' | 'fetched' | 'refused' | 'failed'
  reason?: string
}

/** Options of copyToFleet. */
export interface FleetCopyInit {
  signal?: AbortSignal
  /** Time one owner may take to fetch one item, ms. Default DEFAULT_FLEET_FETCH_TIMEOUT_MS (10 min). */
  timeoutMs?: number
  /** Where the temporary serving peer listens. Default `/ip4/0.0.0.0/tcp/0` (owners fetch over the connection the publisher opened). */
  listenMultiaddrs?: string[]
}

/** Offers each of `contentIds` (held in `store`) to its owners under `record`; one result per (item, owner). */
export async function copyToFleet (store: ContentStore, contentIds: readonly ContentId[], record: FleetRecord, init: FleetCopyInit = {}): Promise<FleetCopyResult[]> {
  const swarm = await startSwarmPeer({ store, listenMultiaddrs: init.listenMultiaddrs ?? ['/ip4/0.0.0.0/tcp/0'] })
  const byId = new Map(record.seeders.map(s => [s.peerId, s]))
  try {
    const jobs = contentIds.flatMap(contentId => recordOwners(record, contentId).map(peerId => ({ contentId, peerId })))
    const copy = async ({ contentId, peerId }: { contentId: ContentId, peerId: string }): Promise<FleetCopyResult> => {
      const errors: string[] = []
      for (const addr of byId.get(peerId)?.multiaddrs ?? []) {
        try {
          const answer = await requestFleetFetch(swarm.node, multiaddr(`${addr}/p2p/${peerId}`), contentId, { signal: init.signal, timeoutMs: init.timeoutMs })
          return { contentId, peerId, outcome: answer.fetch, ...(answer.reason != null ? { reason: answer.reason } : {}) }
        } catch (err) {
          if (init.signal?.aborted === true) throw init.signal.reason
          errors.push(`${addr}: ${(err as Error).message}`)
        }
      }
      return { contentId, peerId, outcome: 'failed', reason: errors.join('; ') }
    }
    // A few copies at once: a seeder takes MAX_CONCURRENT_FLEET_FETCHES and refuses more.
    const results: FleetCopyResult[] = new Array(jobs.length)
    let next = 0
    await Promise.all(Array.from({ length: Math.min(COPY_CONCURRENCY, jobs.length) }, async () => {
      while (next < jobs.length) { const k = next++; results[k] = await copy(jobs[k]) }
    }))
    return results
  } finally {
    await swarm.stop()
  }
}
