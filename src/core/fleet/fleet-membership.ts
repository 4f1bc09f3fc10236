/**
 * One seeder's view of its fleet: the record it holds, what it owns under
 * it, and whether to take an item a publisher offers.
 *
 * Rules:
 * - A new record replaces the held one only under compareFleetRecords
 *   (same publisher, higher sequence); the publisher key of the first
 *   record is the one trusted for good.
 * - The seeder owns an item when it is among the item's rendezvous owners
 *   (the record's replication). It announces only what it owns; items of
 *   its store it does not own stay on disk until the operator removes them
 *   (`fleet plan` lists them), so a roll never loses the last copy.
 * - An offered item is taken when the seeder owns it and does not hold it,
 *   and only if its manifest is signed by the fleet's publisher.
 */
import type { ContentId } from '../content/content-id.js'
import { compareFleetRecords, recordOwners, type FleetRecord } from './fleet-record.js'

/** What to do with an offered item. */
export type FleetFetchDecision = { action: 'held' } | { action: 'fetch' } | { action: 'refuse', reason: string }

/** How the owned set changed with a new record. */
export interface FleetRecordChange {
  /** 'unchanged' when the same record came again. */
  outcome: 'newer' | 'unchanged'
  /** Held items this seeder owns now and did not before (announce them). */
  gained: ContentId[]
  /** Held items it owned before and does not now (withdraw them). */
  lost: ContentId[]
}

/** A seeder's fleet state (see the file's comment). */
export class FleetMembership {
  private current: FleetRecord

  constructor (record: FleetRecord, private readonly selfPeerId: string) {
    this.current = record
  }

  /** The record held now. */
  get record (): FleetRecord { return this.current }

  /** This seeder is listed in the record. */
  get listed (): boolean { return this.current.seeders.some(s => s.peerId === this.selfPeerId) }

  /** This seeder owns `contentId` under the held record. */
  owns (contentId: string): boolean {
    return recordOwners(this.current, contentId).includes(this.selfPeerId)
  }

  /** Replaces the record (throws ForeignFleetRecordError or StaleFleetRecordError, keeping the old one) and says which `held` items changed hands. */
  update (candidate: FleetRecord, held: readonly ContentId[]): FleetRecordChange {
    const outcome = compareFleetRecords(this.current, candidate)
    if (outcome === 'unchanged') return { outcome, gained: [], lost: [] }
    const before = new Set(held.filter(id => this.owns(id)))
    this.current = candidate
    const after = new Set(held.filter(id => this.owns(id)))
    return { outcome, gained: [...after].filter(id => !before.has(id)), lost: [...before].filter(id => !after.has(id)) }
  }

  /** Whether to take an item offered by a publisher (`held`: it is in the store already). */
  decideFetch (contentId: ContentId, held: boolean): FleetFetchDecision {
    if (held) return { action: 'held' }
    if (!this.owns(contentId)) return { action: 'refuse', reason: `not an owner of ${contentId} under fleet record ${this.current.sequence}` }
    return { action: 'fetch' }
  }

  /** A fetched manifest's publisher key is the fleet's. */
  publisherMatches (publisherKey: Uint8Array): boolean {
    return Buffer.from(publisherKey).equals(this.current.publisherKey)
  }
}
