/**
 * Errors of fleet records, one per fault, so a caller can tell a record
 * that is broken (refuse it, count an offense) from one that is merely
 * stale or someone else's (keep the current one, say so).
 */

/** Bytes that are not a fleet record: bad JSON, wrong format, impossible values, over a limit. */
export class MalformedFleetRecordError extends Error {
  override name = 'MalformedFleetRecordError'
  readonly code = 'ERR_MALFORMED_FLEET_RECORD'
}

/** A fleet record whose signature does not verify under the publisher key it names. */
export class FleetRecordSignatureError extends Error {
  override name = 'FleetRecordSignatureError'
  readonly code = 'ERR_FLEET_RECORD_SIGNATURE'
}

/** A valid fleet record signed by another publisher than the one trusted. */
export class ForeignFleetRecordError extends Error {
  override name = 'ForeignFleetRecordError'
  readonly code = 'ERR_FOREIGN_FLEET_RECORD'
}

/** A valid record of the trusted publisher with a sequence number lower than the current one (or equal, with other contents). */
export class StaleFleetRecordError extends Error {
  override name = 'StaleFleetRecordError'
  readonly code = 'ERR_STALE_FLEET_RECORD'
}
