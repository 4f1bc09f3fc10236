/**
 * How many piece requests a download keeps in flight, per source and in
 * all, from the piece size: a byte budget per source (enough pieces to
 * hide a fast link's round trip) and one over all sources (with one piece
 * per source being verified and written, it bounds a download's memory).
 * Pure; the libp2p client's downloads use it. The simulator sets its own
 * depth in pieces (`maxRequestsPerSource`, sim/node/swarmcdn-params.ts)
 * because its pieces are a model's coarse units, not bytes on a link.
 */

/** Bytes of pieces one source may have in flight: 8 x 1 MiB hides a fast link's round trip. */
export const IN_FLIGHT_BYTES_PER_SOURCE = 8 * 1024 * 1024
/** Bytes of pieces in flight over all sources. */
export const IN_FLIGHT_BYTES_TOTAL = 64 * 1024 * 1024
/** Fewest and most requests in flight per source, whatever the piece size. */
export const MIN_REQUESTS_PER_SOURCE = 2
export const MAX_REQUESTS_PER_SOURCE = 64

/** Options of requestDepth. */
export interface RequestDepthInit {
  /** Requests per source, taken as given when set. Default: from inFlightBytesPerSource. */
  maxRequestsPerSource?: number
  /** Byte budget per source. Default IN_FLIGHT_BYTES_PER_SOURCE. */
  inFlightBytesPerSource?: number
}

/** Requests in flight per source and in all for pieces of `pieceSizeBytes`. */
export function requestDepth (pieceSizeBytes: number, init: RequestDepthInit = {}): { perSource: number, total: number } {
  const fromBytes = Math.floor((init.inFlightBytesPerSource ?? IN_FLIGHT_BYTES_PER_SOURCE) / pieceSizeBytes)
  const perSource = init.maxRequestsPerSource ?? Math.max(MIN_REQUESTS_PER_SOURCE, Math.min(MAX_REQUESTS_PER_SOURCE, fromBytes))
  return { perSource, total: Math.max(perSource, Math.floor(IN_FLIGHT_BYTES_TOTAL / pieceSizeBytes)) }
}
