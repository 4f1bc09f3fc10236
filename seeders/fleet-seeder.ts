/**
 * An origin seeder as a member of its publisher's fleet: serves the fleet
 * record on `/swarmcdn/fleet/1.0.0`, announces itself under the fleet's
 * lookup id (so clients find the record through the overlay), announces
 * only the items it owns, and takes the items a publisher offers it
 * (`publish --fleet`) when FleetMembership says so: it downloads them from
 * the publisher into its store.
 */
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { ContentId } from '../src/core/content/content-id.js'
import { fleetLookupId, type FleetRecord } from '../src/core/fleet/fleet-record.js'
import { FleetMembership, type FleetRecordChange } from '../src/core/fleet/fleet-membership.js'
import { registerFleetProtocol, type FleetFetchAnswer } from '../src/net/fleet-protocol.js'
import type { Peer } from '../src/client/peer.js'
import type { ContentStore } from '../src/store/content-store.js'
import { PartialDownload } from '../src/client/partial-download.js'

/** Items a seeder fetches for publishers at once; more are refused as busy (the publisher retries). */
export const MAX_CONCURRENT_FLEET_FETCHES = 4

/** A seeder's fleet side. */
export interface SeederFleet {
  membership: FleetMembership
  /** Takes a newer record (throws ForeignFleetRecordError / StaleFleetRecordError, keeping the old one), announcing and withdrawing what changed hands. */
  update: (record: FleetRecord) => FleetRecordChange
}

/** Joins the fleet of `record` on a running seeder (see the file's comment). */
export async function joinFleet (peer: Peer, store: ContentStore, membership: FleetMembership): Promise<SeederFleet> {
  const fetching = new Map<ContentId, Promise<FleetFetchAnswer>>()
  const fetchItem = async (contentId: ContentId, from: string, signal: AbortSignal): Promise<FleetFetchAnswer> => {
    const incoming = join(store.dir, 'fleet-incoming')
    await mkdir(incoming, { recursive: true })
    const out = join(incoming, contentId)
    const wrong = new AbortController()
    try {
      await peer.download(contentId, out, {
        sources: [{ address: from }],
        signal: AbortSignal.any([signal, wrong.signal]),
        overwrite: true,
        onManifest: m => { if (!membership.publisherMatches(m.publisherKey)) wrong.abort(new Error('not signed by the fleet\'s publisher')) }
      })
      return { fetch: 'fetched' }
    } catch (err) {
      return { fetch: 'refused', reason: wrong.signal.aborted ? 'manifest not signed by the fleet\'s publisher' : `fetch failed: ${(err as Error).message}` }
    } finally {
      // The store copied the item in; the download's own files go.
      await Promise.all([out, PartialDownload.partialPath(out), PartialDownload.statePath(out)].map(async f => { await rm(f, { force: true }) }))
    }
  }
  await registerFleetProtocol(peer.node, {
    record: () => membership.record.signedBytes,
    fetch: async (contentId, from, signal) => {
      const decision = membership.decideFetch(contentId, store.has(contentId))
      if (decision.action === 'held') return { fetch: 'held' }
      if (decision.action === 'refuse') return { fetch: 'refused', reason: decision.reason }
      const running = fetching.get(contentId)
      if (running != null) return await running
      if (fetching.size >= MAX_CONCURRENT_FLEET_FETCHES) return { fetch: 'refused', reason: 'busy: too many fetches at once, try again' }
      const p = fetchItem(contentId, `${from.addr.toString()}/p2p/${from.peerId}`, signal).finally(() => fetching.delete(contentId))
      fetching.set(contentId, p)
      return await p
    }
  })
  peer.overlay.announce(fleetLookupId(membership.record.publisherKey))
  return {
    membership,
    update: record => {
      const change = membership.update(record, store.list())
      for (const id of change.gained) peer.overlay.announce(id)
      for (const id of change.lost) peer.overlay.withdraw(id)
      return change
    }
  }
}
