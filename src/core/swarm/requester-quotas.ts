/**
 * How much of an uploader one requester may hold: streams open and
 * requests queued, per peer and per network (an IPv4 /24 or IPv6 /48, the
 * caller's key), sans-IO. The xfer server asks before it accepts a stream
 * or queues a request, and gives back when they end.
 *
 * Rules:
 * - A stream is accepted while its peer has fewer than
 *   `maxStreamsPerPeer` (default 8) and its network fewer than
 *   `maxStreamsPerNetwork` (default 32) streams open.
 * - A request is queued while its peer has fewer than
 *   `maxQueuedRequestsPerPeer` (default 256) and its network fewer than
 *   `maxQueuedRequestsPerNetwork` (default 1024) requests queued (over all
 *   its streams, on top of each stream's own MAX_QUEUED_REQUESTS).
 * - Why per network as well: one host can take fresh peer ids for free,
 *   but not fresh /24s; a crowd of honest peers is spread over networks.
 * - Memory: a key is held only while it has something open or queued, so
 *   the maps are bounded by the open streams (connections x the
 *   protocol's inbound stream limit).
 */

/** Default xfer streams one peer may have open at an uploader. */
export const DEFAULT_MAX_STREAMS_PER_PEER = 8
/** Default xfer streams one network (/24, /48) may have open at an uploader. */
export const DEFAULT_MAX_STREAMS_PER_NETWORK = 32
/** Default requests one peer may have queued at an uploader, over all its streams. */
export const DEFAULT_MAX_QUEUED_REQUESTS_PER_PEER = 256
/** Default requests one network may have queued at an uploader. */
export const DEFAULT_MAX_QUEUED_REQUESTS_PER_NETWORK = 1024

/** Options of RequesterQuotas; every field optional. */
export interface RequesterQuotasInit {
  /** Streams per peer. Default DEFAULT_MAX_STREAMS_PER_PEER (8). */
  maxStreamsPerPeer?: number
  /** Streams per network. Default DEFAULT_MAX_STREAMS_PER_NETWORK (32). */
  maxStreamsPerNetwork?: number
  /** Queued requests per peer. Default DEFAULT_MAX_QUEUED_REQUESTS_PER_PEER (256). */
  maxQueuedRequestsPerPeer?: number
  /** Queued requests per network. Default DEFAULT_MAX_QUEUED_REQUESTS_PER_NETWORK (1024). */
  maxQueuedRequestsPerNetwork?: number
}

/** Stream and queue counts per peer and per network (see the file's rules). */
export class RequesterQuotas {
  private readonly limits: Required<RequesterQuotasInit>
  private readonly streams = new Map<string, number>()
  private readonly queued = new Map<string, number>()

  /** Quotas with the given limits; a bad value throws RangeError. */
  constructor (init: RequesterQuotasInit = {}) {
    this.limits = {
      maxStreamsPerPeer: init.maxStreamsPerPeer ?? DEFAULT_MAX_STREAMS_PER_PEER,
      maxStreamsPerNetwork: init.maxStreamsPerNetwork ?? DEFAULT_MAX_STREAMS_PER_NETWORK,
      maxQueuedRequestsPerPeer: init.maxQueuedRequestsPerPeer ?? DEFAULT_MAX_QUEUED_REQUESTS_PER_PEER,
      maxQueuedRequestsPerNetwork: init.maxQueuedRequestsPerNetwork ?? DEFAULT_MAX_QUEUED_REQUESTS_PER_NETWORK
    }
    for (const [name, v] of Object.entries(this.limits)) {
      if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`)
    }
  }

  /** Accepts a stream of `peer` in `network` (true) or refuses it. */
  openStream (peer: string, network: string): boolean {
    if (count(this.streams, 'p' + peer) >= this.limits.maxStreamsPerPeer) return false
    if (count(this.streams, 'n' + network) >= this.limits.maxStreamsPerNetwork) return false
    add(this.streams, 'p' + peer, 1)
    add(this.streams, 'n' + network, 1)
    return true
  }

  /** An accepted stream ended. */
  closeStream (peer: string, network: string): void {
    add(this.streams, 'p' + peer, -1)
    add(this.streams, 'n' + network, -1)
  }

  /** Queues one request of `peer` in `network` (true) or refuses it. */
  queueRequest (peer: string, network: string): boolean {
    if (count(this.queued, 'p' + peer) >= this.limits.maxQueuedRequestsPerPeer) return false
    if (count(this.queued, 'n' + network) >= this.limits.maxQueuedRequestsPerNetwork) return false
    add(this.queued, 'p' + peer, 1)
    add(this.queued, 'n' + network, 1)
    return true
  }

  /** `n` queued requests left the queue (served, cancelled, dropped). */
  unqueueRequests (peer: string, network: string, n = 1): void {
    if (n <= 0) return
    add(this.queued, 'p' + peer, -n)
    add(this.queued, 'n' + network, -n)
  }

  /** Streams open now for `peer` (tests and metrics). */
  streamsOf (peer: string): number {
    return count(this.streams, 'p' + peer)
  }

  /** Requests queued now for `peer` (tests and metrics). */
  queuedOf (peer: string): number {
    return count(this.queued, 'p' + peer)
  }

  /** Keys held now: bounded by the open streams. */
  get size (): number {
    return this.streams.size + this.queued.size
  }
}

function count (m: Map<string, number>, key: string): number {
  return m.get(key) ?? 0
}

function add (m: Map<string, number>, key: string, delta: number): void {
  const v = (m.get(key) ?? 0) + delta
  if (v <= 0) m.delete(key); else m.set(key, v)
}
