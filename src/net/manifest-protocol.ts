/**
 * `/swarmcdn/manifest/1.0.0`: one request (a content id), one response
 * (the signed manifest bytes or not-found) per stream. The requester
 * verifies the bytes against the id it asked for, so a server can't
 * substitute another item. A request that does not decode, or one
 * trickled past the frame deadline, counts against the requester in the
 * node's offender guard (net/offender-guard.ts); a banned peer's streams
 * are reset on arrival.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId, Stream } from '@libp2p/interface'
import type { ContentProvider } from './content-provider.js'
import type { SwarmNode } from './swarm-node.js'
import type { ManifestRequest, ManifestResponse } from '../core/messages/xfer-messages.js'
import type { ContentId } from '../core/content/content-id.js'
import { openSignedManifest, type VerifiedManifest } from '../core/content/manifest.js'
import { MANIFEST_PROTOCOL } from './protocol-ids.js'
import { openPieceConnection } from './piece-connection.js'
import { FramedStream, FrameError, isPeerFault, withTimeout } from './framed-stream.js'
import { offenderGuardOf, PeerBannedError } from './offender-guard.js'
import { decodeManifestRequest, decodeManifestResponse, encodeManifestRequest, encodeManifestResponse, MAX_MANIFEST_REQUEST_BYTES, MAX_MANIFEST_RESPONSE_BYTES } from './xfer-codec.js'

/** Default time for a whole manifest exchange, in ms. */
export const DEFAULT_MANIFEST_TIMEOUT_MS = 15_000

/** The peer does not hold the item asked for. */
export class ContentNotFoundError extends Error {
  override name = 'ContentNotFoundError'
  readonly code = 'ERR_CONTENT_NOT_FOUND'
}

/** Message in, message out: the answer to one manifest request. */
export function answerManifestRequest (provider: ContentProvider, req: ManifestRequest): ManifestResponse {
  const m = provider.has(req.contentId) ? provider.manifest(req.contentId) : undefined
  return m == null ? { found: false } : { found: true, signedManifest: m.signedBytes }
}

/** Options for registerManifestProtocol. */
export interface ManifestProtocolInit {
  /** Time allowed for one exchange, ms. Default DEFAULT_MANIFEST_TIMEOUT_MS. */
  timeoutMs?: number
  /** Concurrent inbound manifest streams per connection. Default 8. */
  maxInboundStreams?: number
  /** Time the request frame may take after its first byte, ms. Default DEFAULT_FRAME_TIMEOUT_MS (10 s). */
  frameTimeoutMs?: number
}

/** Serves manifests from `provider` on `node`. */
export async function registerManifestProtocol (node: SwarmNode, provider: ContentProvider, init: ManifestProtocolInit = {}): Promise<void> {
  const timeoutMs = init.timeoutMs ?? DEFAULT_MANIFEST_TIMEOUT_MS
  const guard = offenderGuardOf(node)
  await node.handle(MANIFEST_PROTOCOL, async (stream: Stream, connection) => {
    const peerId = connection.remotePeer.toString()
    if (guard.refuses(peerId)) { stream.abort(new PeerBannedError('peer is banned for repeated protocol violations')); return }
    const signal = AbortSignal.timeout(timeoutMs)
    const framed = new FramedStream(stream, { maxFrameBytes: MAX_MANIFEST_REQUEST_BYTES, frameTimeoutMs: init.frameTimeoutMs })
    try {
      const frame = await framed.read(signal)
      if (frame == null) { stream.abort(new FrameError('manifest stream closed before a request', { peerFault: false })); return }
      let req: ManifestRequest
      try {
        req = decodeManifestRequest(frame)
      } catch (err) {
        throw new FrameError(`malformed manifest request: ${(err as Error).message}`)
      }
      const res = answerManifestRequest(provider, req)
      await framed.write(encodeManifestResponse(res), signal)
      await framed.close(signal)
    } catch (err) {
      if (isPeerFault(err)) guard.offense(peerId, 'manifest', (err as Error).message)
      stream.abort(err as Error)
    }
  }, { maxInboundStreams: init.maxInboundStreams ?? 8 })
}

/** Options for fetchManifest. */
export interface FetchManifestInit {
  signal?: AbortSignal
  /** Time allowed for dial plus exchange, ms. Default DEFAULT_MANIFEST_TIMEOUT_MS. */
  timeoutMs?: number
  /** Every address known for the source, relayed ones included (piece-connection.ts). Default: the target alone. */
  dialAddrs?: readonly string[]
}

/**
 * Fetches and verifies the manifest of `contentId` from `target`. Throws
 * ContentNotFoundError, ContentIdMismatchError, ManifestSignatureError,
 * MalformedManifestError or FrameError.
 */
export async function fetchManifest (node: SwarmNode, target: Multiaddr | PeerId, contentId: ContentId, init: FetchManifestInit = {}): Promise<VerifiedManifest> {
  const signal = withTimeout(init.signal, init.timeoutMs ?? DEFAULT_MANIFEST_TIMEOUT_MS)
  // Like pieces, a manifest (up to 8 MiB) does not cross a relay: the connection is a direct one.
  const conn = await openPieceConnection(node, target, { signal, dialAddrs: init.dialAddrs })
  const stream = await conn.newStream(MANIFEST_PROTOCOL, { signal })
  const framed = new FramedStream(stream, { maxFrameBytes: MAX_MANIFEST_RESPONSE_BYTES })
  try {
    await framed.write(encodeManifestRequest({ contentId }), signal)
    const frame = await framed.read(signal)
    if (frame == null) throw new FrameError('peer closed the manifest stream without an answer')
    const res = decodeManifestResponse(frame)
    if (!res.found) throw new ContentNotFoundError(`peer does not have ${contentId}`)
    return openSignedManifest(res.signedManifest, contentId)
  } catch (err) {
    stream.abort(err as Error)
    throw err
  } finally {
    if (stream.status === 'open') await framed.close(signal).catch(() => {})
  }
}
