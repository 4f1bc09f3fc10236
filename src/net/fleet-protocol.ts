/**
 * `/swarmcdn/fleet/1.0.0`, served by origin seeders that run with a fleet
 * record: one JSON request and one JSON response per stream.
 *
 * - `{"type":"record"}` → `{"record": BASE64}` (the signed fleet document)
 *   or `{"record": null}`. The asker verifies it (core/fleet/fleet-record.ts);
 *   the server is not trusted.
 * - `{"type":"fetch","contentId": ID}` → `{"fetch": "held" | "fetched" |
 *   "refused", "reason"?: TEXT}`: "you own this item under the fleet
 *   record; fetch it from me" (`publish --fleet`). The seeder decides
 *   (owner? publisher's manifest?) and downloads from the dialer; the
 *   answer comes when the item is in its store. No extra authentication is
 *   needed: a seeder only takes items it owns whose manifests the fleet's
 *   publisher signed, which it should hold anyway.
 *
 * Limits: request 1 KiB, response MAX_FLEET_RECORD_BYTES + 1 KiB; a
 * request that does not decode counts against the dialer in the node's
 * offender guard.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '@libp2p/interface'
import type { SwarmNode } from './swarm-node.js'
import { FLEET_PROTOCOL } from './protocol-ids.js'
import { FramedStream, FrameError, isPeerFault, withTimeout } from './framed-stream.js'
import { offenderGuardOf, PeerBannedError } from './offender-guard.js'
import { parseContentId, type ContentId } from '../core/content/content-id.js'
import { MAX_FLEET_RECORD_BYTES } from '../core/fleet/fleet-record.js'

/** Largest request frame, bytes. */
export const MAX_FLEET_REQUEST_BYTES = 1024
/** Largest response frame, bytes. */
export const MAX_FLEET_RESPONSE_BYTES = Math.ceil(MAX_FLEET_RECORD_BYTES * 4 / 3) + 1024
/** Default time for a record exchange (dial included), ms. */
export const DEFAULT_FLEET_RECORD_TIMEOUT_MS = 10_000
/** Default time a fetch may take before the asker gives up, ms (the seeder downloads the whole item meanwhile). */
export const DEFAULT_FLEET_FETCH_TIMEOUT_MS = 10 * 60_000

/** What a seeder answers to "fetch this item from me". */
export interface FleetFetchAnswer {
  fetch: 'held' | 'fetched' | 'refused'
  reason?: string
}

/** What a fleet seeder does with the two requests (its decisions; this file only carries them). */
export interface FleetServer {
  /** The signed fleet document it holds now, or undefined. */
  record: () => Uint8Array | undefined
  /** Fetch `contentId` from the dialer (peer id and the address it dialled from), answering when done. */
  fetch: (contentId: ContentId, from: { peerId: string, addr: Multiaddr }, signal: AbortSignal) => Promise<FleetFetchAnswer>
}

/** Options of registerFleetProtocol. */
export interface FleetProtocolInit {
  /** Longest a fetch is served, ms. Default DEFAULT_FLEET_FETCH_TIMEOUT_MS (10 min). */
  fetchTimeoutMs?: number
}

type FleetRequest = { type: 'record' } | { type: 'fetch', contentId: ContentId }

function decodeRequest (bytes: Uint8Array): FleetRequest {
  let v: unknown
  try { v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) } catch { throw new FrameError('fleet request is not JSON') }
  const r = v as Record<string, unknown> | null
  if (r?.type === 'record') return { type: 'record' }
  if (r?.type === 'fetch' && typeof r.contentId === 'string') {
    try { return { type: 'fetch', contentId: parseContentId(r.contentId) } } catch { throw new FrameError('fleet fetch names no content id') }
  }
  throw new FrameError('unknown fleet request')
}

/** Serves `server` on the fleet protocol. */
export async function registerFleetProtocol (node: SwarmNode, server: FleetServer, init: FleetProtocolInit = {}): Promise<void> {
  const guard = offenderGuardOf(node)
  await node.handle(FLEET_PROTOCOL, async (stream, connection) => {
    const peerId = connection.remotePeer.toString()
    if (guard.refuses(peerId)) { stream.abort(new PeerBannedError('peer is banned for repeated protocol violations')); return }
    const framed = new FramedStream(stream, { maxFrameBytes: MAX_FLEET_REQUEST_BYTES })
    // The request must come quickly; only a fetch may then take long.
    let signal = AbortSignal.timeout(DEFAULT_FLEET_RECORD_TIMEOUT_MS)
    try {
      const frame = await framed.read(signal)
      if (frame == null) { stream.abort(new FrameError('fleet stream closed before a request', { peerFault: false })); return }
      const req = decodeRequest(frame)
      let answer: unknown
      if (req.type === 'record') {
        const rec = server.record()
        answer = { record: rec == null ? null : Buffer.from(rec).toString('base64') }
      } else {
        signal = AbortSignal.timeout(init.fetchTimeoutMs ?? DEFAULT_FLEET_FETCH_TIMEOUT_MS)
        answer = await server.fetch(req.contentId, { peerId, addr: connection.remoteAddr }, signal)
      }
      await framed.write(new TextEncoder().encode(JSON.stringify(answer)), signal)
      await framed.close(signal)
    } catch (err) {
      if (isPeerFault(err)) guard.offense(peerId, 'fleet', (err as Error).message)
      stream.abort(err as Error)
    }
  }, { maxInboundStreams: 8 })
}

async function exchange (node: SwarmNode, target: Multiaddr | PeerId, req: FleetRequest, signal: AbortSignal): Promise<Record<string, unknown>> {
  const stream = await node.dialProtocol(target, FLEET_PROTOCOL, { signal })
  const framed = new FramedStream(stream, { maxFrameBytes: MAX_FLEET_RESPONSE_BYTES })
  try {
    await framed.write(new TextEncoder().encode(JSON.stringify(req)), signal)
    const frame = await framed.read(signal)
    if (frame == null) throw new FrameError('peer closed the fleet stream without an answer')
    let v: unknown
    try { v = JSON.parse(new TextDecoder().decode(frame)) } catch { throw new FrameError('fleet answer is not JSON') }
    if (v == null || typeof v !== 'object') throw new FrameError('fleet answer is not an object')
    return v as Record<string, unknown>
  } catch (err) {
    stream.abort(err as Error)
    throw err
  } finally {
    if (stream.status === 'open') await framed.close(signal).catch(() => {})
  }
}

/** The signed fleet document `target` holds (unverified: open it with openFleetRecord), or undefined. */
export async function fetchFleetDocument (node: SwarmNode, target: Multiaddr | PeerId, init: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<Uint8Array | undefined> {
  const answer = await exchange(node, target, { type: 'record' }, withTimeout(init.signal, init.timeoutMs ?? DEFAULT_FLEET_RECORD_TIMEOUT_MS))
  if (answer.record == null) return undefined
  if (typeof answer.record !== 'string') throw new FrameError('fleet answer has no record')
  return new Uint8Array(Buffer.from(answer.record, 'base64'))
}

/** Asks the seeder at `target` to fetch `contentId` from this node; resolves with its answer once it holds the item (or refused). */
export async function requestFleetFetch (node: SwarmNode, target: Multiaddr | PeerId, contentId: ContentId, init: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<FleetFetchAnswer> {
  const answer = await exchange(node, target, { type: 'fetch', contentId }, withTimeout(init.signal, init.timeoutMs ?? DEFAULT_FLEET_FETCH_TIMEOUT_MS))
  if (answer.fetch !== 'held' && answer.fetch !== 'fetched' && answer.fetch !== 'refused') throw new FrameError('fleet answer has no fetch verdict')
  return { fetch: answer.fetch, ...(typeof answer.reason === 'string' ? { reason: answer.reason.slice(0, 200) } : {}) }
}
