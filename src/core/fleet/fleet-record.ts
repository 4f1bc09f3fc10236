/**
 * The fleet record: which origin seeders serve a publisher's catalog,
 * signed with the publisher's Ed25519 key (the key its manifests carry).
 *
 * Rules:
 * - The signed document is JSON: `{"format":"swarmcdn-fleet/1","record":
 *   BASE64,"signature":BASE64}`. The record is the exact UTF-8 bytes of a
 *   JSON body `{publisherKey (hex), sequence, seeders: [{peerId,
 *   multiaddrs}]}`, signed under its own domain-separation context; it is
 *   carried as base64 so the signed bytes are never re-encoded.
 * - Limits while decoding: MAX_FLEET_RECORD_BYTES in all, MAX_FLEET_SEEDERS
 *   seeders, MAX_SEEDER_ADDRS addresses each, MAX_ADDR_CHARS per address,
 *   peer ids of base58 characters and at most MAX_PEER_ID_CHARS; no peer id
 *   twice.
 * - The sequence number only grows. A holder of a record accepts another
 *   only when it verifies, is signed by the trusted publisher key (else
 *   ForeignFleetRecordError) and has a higher sequence (a lower one, or the
 *   same one with other contents, is StaleFleetRecordError; the same bytes
 *   are "unchanged").
 */
import type { KeyObject } from 'node:crypto'
import { rawPublicKey, signWithContext, verifyWithContext } from '../content/publisher-signature.js'
import { contentIdOf, type ContentId } from '../content/content-id.js'
import { DEFAULT_FLEET_REPLICATION, fleetOwners, rendezvousOrder } from './rendezvous.js'
import { FleetRecordSignatureError, ForeignFleetRecordError, MalformedFleetRecordError, StaleFleetRecordError } from './fleet-errors.js'

/** Format tag of the signed document. */
export const FLEET_RECORD_FORMAT = 'swarmcdn-fleet/1'
/** Upper bound on a signed fleet document, in bytes (also the wire limit). */
export const MAX_FLEET_RECORD_BYTES = 64 * 1024
/** Seeders in one record at most. */
export const MAX_FLEET_SEEDERS = 64
/** Addresses per seeder at most. */
export const MAX_SEEDER_ADDRS = 8
/** Characters per address at most. */
export const MAX_ADDR_CHARS = 256
/** Characters per peer id at most. */
export const MAX_PEER_ID_CHARS = 128
/** Domain separation: a fleet signature is never a manifest signature, nor the reverse. */
const SIGNING_CONTEXT = new TextEncoder().encode('swarmcdn-fleet-v1\0')

/** One origin seeder of the fleet. */
export interface FleetSeeder {
  /** libp2p peer id (its `--identity` keeps it stable). */
  peerId: string
  /** Dialable multiaddrs, without /p2p/PEER_ID. */
  multiaddrs: string[]
}

/** What the publisher states. */
export interface FleetRecordFields {
  /** Grows with every new record of this publisher. */
  sequence: number
  seeders: FleetSeeder[]
  /** Seeders that hold each item (rendezvous owners); clients and seeders read it from the record so they agree. Default DEFAULT_FLEET_REPLICATION (2). */
  replication?: number
}

/** A fleet record that passed every check. */
export interface FleetRecord extends FleetRecordFields {
  replication: number
  /** Raw 32-byte Ed25519 public key of the publisher. */
  publisherKey: Uint8Array
  /** The exact signed document, to store and to serve. */
  signedBytes: Uint8Array
}

function checkFields (f: FleetRecordFields): void {
  if (!Number.isSafeInteger(f.sequence) || f.sequence < 0) throw new MalformedFleetRecordError(`fleet sequence must be a non-negative integer, got ${String(f.sequence)}`)
  if (f.replication !== undefined && (!Number.isSafeInteger(f.replication) || f.replication < 1 || f.replication > MAX_FLEET_SEEDERS)) throw new MalformedFleetRecordError(`fleet replication must be 1-${MAX_FLEET_SEEDERS}, got ${String(f.replication)}`)
  if (!Array.isArray(f.seeders) || f.seeders.length === 0 || f.seeders.length > MAX_FLEET_SEEDERS) throw new MalformedFleetRecordError(`a fleet has 1-${MAX_FLEET_SEEDERS} seeders`)
  const seen = new Set<string>()
  for (const s of f.seeders) {
    if (typeof s?.peerId !== 'string' || !/^[1-9A-HJ-NP-Za-km-z]+$/.test(s.peerId) || s.peerId.length > MAX_PEER_ID_CHARS) {
      throw new MalformedFleetRecordError(`not a peer id: ${JSON.stringify(String(s?.peerId).slice(0, 80))}`)
    }
    if (seen.has(s.peerId)) throw new MalformedFleetRecordError(`seeder ${s.peerId} is listed twice`)
    seen.add(s.peerId)
    if (!Array.isArray(s.multiaddrs) || s.multiaddrs.length === 0 || s.multiaddrs.length > MAX_SEEDER_ADDRS) {
      throw new MalformedFleetRecordError(`seeder ${s.peerId} needs 1-${MAX_SEEDER_ADDRS} addresses`)
    }
    for (const a of s.multiaddrs) {
      if (typeof a !== 'string' || !a.startsWith('/') || a.length > MAX_ADDR_CHARS || a.includes('/p2p/')) {
        throw new MalformedFleetRecordError(`seeder ${s.peerId}: not an address without /p2p/: ${JSON.stringify(String(a).slice(0, 80))}`)
      }
    }
  }
}

/** Signs a fleet record with the publisher's private key and returns it verified. */
export function buildFleetRecord (fields: FleetRecordFields, privateKey: KeyObject): FleetRecord {
  checkFields(fields)
  const publisherKey = rawPublicKey(privateKey)
  const body = {
    publisherKey: Buffer.from(publisherKey).toString('hex'),
    sequence: fields.sequence,
    replication: fields.replication ?? DEFAULT_FLEET_REPLICATION,
    seeders: fields.seeders.map(s => ({ peerId: s.peerId, multiaddrs: [...s.multiaddrs] }))
  }
  const record = new TextEncoder().encode(JSON.stringify(body))
  const signature = signWithContext(SIGNING_CONTEXT, record, privateKey)
  const doc = JSON.stringify({ format: FLEET_RECORD_FORMAT, record: Buffer.from(record).toString('base64'), signature: Buffer.from(signature).toString('base64') }, null, 1) + '\n'
  return openFleetRecord(new TextEncoder().encode(doc))
}

function base64Field (doc: Record<string, unknown>, name: string): Uint8Array {
  const v = doc[name]
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw new MalformedFleetRecordError(`fleet document field ${name} is not base64`)
  return new Uint8Array(Buffer.from(v, 'base64'))
}

function parseJson (bytes: Uint8Array, what: string): Record<string, unknown> {
  let v: unknown
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (err) {
    throw new MalformedFleetRecordError(`${what} is not JSON: ${(err as Error).message}`)
  }
  if (v == null || typeof v !== 'object' || Array.isArray(v)) throw new MalformedFleetRecordError(`${what} is not a JSON object`)
  return v as Record<string, unknown>
}

/**
 * Decodes and verifies a signed fleet document. With `trustedKey` (raw
 * 32 bytes), a record signed by another key is ForeignFleetRecordError.
 * Throws MalformedFleetRecordError or FleetRecordSignatureError for bad bytes.
 */
export function openFleetRecord (signedBytes: Uint8Array, trustedKey?: Uint8Array): FleetRecord {
  if (signedBytes.length > MAX_FLEET_RECORD_BYTES) throw new MalformedFleetRecordError(`fleet document is ${signedBytes.length} bytes, over the ${MAX_FLEET_RECORD_BYTES}-byte limit`)
  const doc = parseJson(signedBytes, 'fleet document')
  if (doc.format !== FLEET_RECORD_FORMAT) throw new MalformedFleetRecordError(`not a fleet document (format ${JSON.stringify(doc.format)}, want ${FLEET_RECORD_FORMAT})`)
  const record = base64Field(doc, 'record')
  const signature = base64Field(doc, 'signature')
  const body = parseJson(record, 'fleet record')
  const keyHex = body.publisherKey
  if (typeof keyHex !== 'string' || !/^[0-9a-f]{64}$/.test(keyHex)) throw new MalformedFleetRecordError('fleet record publisher key is not 32 bytes of hex')
  const publisherKey = new Uint8Array(Buffer.from(keyHex, 'hex'))
  const fields = { sequence: body.sequence as number, replication: (body.replication ?? DEFAULT_FLEET_REPLICATION) as number, seeders: body.seeders as FleetSeeder[] }
  checkFields(fields)
  if (signature.length !== 64 || !verifyWithContext(SIGNING_CONTEXT, record, publisherKey, signature)) {
    throw new FleetRecordSignatureError(`fleet record signature does not verify for publisher key ${keyHex.slice(0, 16)}...`)
  }
  if (trustedKey != null && !Buffer.from(trustedKey).equals(publisherKey)) {
    throw new ForeignFleetRecordError(`fleet record is signed by publisher ${keyHex.slice(0, 16)}..., not the trusted ${Buffer.from(trustedKey).toString('hex').slice(0, 16)}...`)
  }
  return {
    sequence: fields.sequence,
    replication: fields.replication,
    seeders: fields.seeders.map(s => ({ peerId: s.peerId, multiaddrs: [...s.multiaddrs] })),
    publisherKey,
    signedBytes
  }
}

/**
 * Whether `candidate` (already verified) may replace `current`: 'newer'
 * replaces, 'unchanged' is the same record. Throws ForeignFleetRecordError
 * for another publisher's record, StaleFleetRecordError for a lower
 * sequence or a different record under the same sequence.
 */
export function compareFleetRecords (current: FleetRecord | undefined, candidate: FleetRecord): 'newer' | 'unchanged' {
  if (current == null) return 'newer'
  if (!Buffer.from(current.publisherKey).equals(candidate.publisherKey)) {
    throw new ForeignFleetRecordError(`fleet record is signed by publisher ${Buffer.from(candidate.publisherKey).toString('hex').slice(0, 16)}..., not this fleet's ${Buffer.from(current.publisherKey).toString('hex').slice(0, 16)}...`)
  }
  if (candidate.sequence > current.sequence) return 'newer'
  if (candidate.sequence === current.sequence && sameSeeders(current, candidate)) return 'unchanged'
  throw new StaleFleetRecordError(candidate.sequence === current.sequence
    ? `fleet record ${candidate.sequence} differs from the held record with the same sequence; a new record needs a higher sequence`
    : `fleet record ${candidate.sequence} is older than the held record ${current.sequence}`)
}

function sameSeeders (a: FleetRecordFields, b: FleetRecordFields): boolean {
  return a.replication === b.replication && JSON.stringify(a.seeders) === JSON.stringify(b.seeders)
}

/** The owners of `contentId` under `record` (its replication), in rendezvous order. */
export function recordOwners (record: FleetRecord, contentId: string): string[] {
  return fleetOwners(contentId, record.seeders.map(s => s.peerId), record.replication)
}

/** Every seeder of `record`, in the order a client tries them as origins for `contentId`: owners first. */
export function recordOriginOrder (record: FleetRecord, contentId: string): FleetSeeder[] {
  const byId = new Map(record.seeders.map(s => [s.peerId, s]))
  return rendezvousOrder(contentId, [...byId.keys()]).map(id => byId.get(id) as FleetSeeder)
}

/** The record's seeder with this peer id, or undefined. */
export function fleetSeeder (record: FleetRecordFields, peerId: string): FleetSeeder | undefined {
  return record.seeders.find(s => s.peerId === peerId)
}

/** Domain separation of the fleet's overlay key. */
const LOOKUP_CONTEXT = new TextEncoder().encode('swarmcdn-fleet-lookup-v1\0')

/**
 * The id under which a publisher's seeders announce themselves in the
 * overlay (a content id in form, so the DHT and the tier carry it like any
 * item): whoever knows the publisher key finds the fleet's seeders, then
 * fetches and verifies the record from them.
 */
export function fleetLookupId (publisherKey: Uint8Array): ContentId {
  const bytes = new Uint8Array(LOOKUP_CONTEXT.length + publisherKey.length)
  bytes.set(LOOKUP_CONTEXT)
  bytes.set(publisherKey, LOOKUP_CONTEXT.length)
  return contentIdOf(bytes)
}
