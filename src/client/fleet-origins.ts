/**
 * A client's fleet: the origins of an item in the order to try them, from
 * a fleet record (a file given with `--fleet`, or fetched from seeders found
 * through the overlay under the publisher's fleet lookup id).
 */
import { multiaddr } from '@multiformats/multiaddr'
import { readFile } from 'node:fs/promises'
import type { ContentId } from '../core/content/content-id.js'
import { compareFleetRecords, fleetLookupId, openFleetRecord, recordOriginOrder, type FleetRecord } from '../core/fleet/fleet-record.js'
import type { SwarmNode } from '../net/swarm-node.js'
import { fetchFleetDocument } from '../net/fleet-protocol.js'
import type { ProviderFinder, ProviderInfo } from './provider-finder.js'

/** Options of a download's fleet origins (SwarmDownloadInit.fleetOrigins). */
export interface FleetOriginsInit {
  /** The item's origins in rendezvous order (`fleetOriginsFor`). */
  origins: ProviderInfo[]
  /** Time without any piece before the next origin is added, ms. Default DEFAULT_ORIGIN_FAILOVER_MS (5 s). */
  failoverAfterMs?: number
}

/** A fleet file that cannot be read or is not a valid record. */
export class FleetFileError extends Error {
  override name = 'FleetFileError'
  readonly code = 'ERR_FLEET_FILE'
}

/** Reads and verifies a signed fleet document from `path` (with `trustedKey`, another publisher's is refused). */
export async function readFleetFile (path: string, trustedKey?: Uint8Array): Promise<FleetRecord> {
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(await readFile(path))
  } catch (err) {
    throw new FleetFileError(`cannot read fleet file ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (err as Error).message}`)
  }
  try {
    return openFleetRecord(bytes, trustedKey)
  } catch (err) {
    throw new FleetFileError(`fleet file ${path}: ${(err as Error).message}`)
  }
}

/** The origins of `contentId` under `record`, in the order a client tries them (owners first). */
export function fleetOriginsFor (record: FleetRecord, contentId: ContentId): ProviderInfo[] {
  return recordOriginOrder(record, contentId).map(s => ({ peerId: s.peerId, multiaddrs: s.multiaddrs, isOrigin: true }))
}

/** Most seeders asked for the record in one findFleetRecord. */
export const MAX_FLEET_RECORD_SOURCES = 4

/**
 * The newest valid fleet record of `publisherKey` held by the seeders the
 * overlay names under its fleet lookup id (asks up to
 * MAX_FLEET_RECORD_SOURCES; foreign, invalid and older records are
 * ignored). Undefined when none answered with a valid one.
 */
export async function findFleetRecord (node: SwarmNode, finder: ProviderFinder, publisherKey: Uint8Array, init: { signal?: AbortSignal } = {}): Promise<FleetRecord | undefined> {
  const seeders = (await finder(fleetLookupId(publisherKey), { signal: init.signal })).filter(p => p.multiaddrs.length > 0).slice(0, MAX_FLEET_RECORD_SOURCES)
  let best: FleetRecord | undefined
  await Promise.all(seeders.map(async s => {
    try {
      const first = s.multiaddrs[0]
      const bytes = await fetchFleetDocument(node, multiaddr(first.includes('/p2p/') ? first : `${first}/p2p/${s.peerId}`), { signal: init.signal })
      if (bytes == null) return
      const record = openFleetRecord(bytes, publisherKey)
      if (best == null || compareFleetRecords(best, record) === 'newer') best = record
    } catch {}
  }))
  return best
}
