/**
 * `/swarmcdn/manifest/1.0.0`: one request (a content id), one response
 * (the signed manifest bytes or not-found) per stream. The requester
 * verifies the bytes against the id it asked for, so a server can't
 * substitute another item.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId, Stream } from '@libp2p/interface'
import type { ContentProvider } from './content-provider.js'
import type { SwarmNode } from './swarm-node.js'
import type { ManifestRequest, ManifestResponse } from '../core/messages/xfer-messages.js'
import type { ContentId } from '../core/content/content-id.js'
import { openSignedManifest, type VerifiedManifest } from '../core/content/manifest.js'
import { MANIFEST_PROTOCOL } from './protocol-ids.js'
import { FramedStream, FrameError, withTimeout } from './framed-stream.js'
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
}

/** Serves manifests from `provider` on `node`. */
export async function registerManifestProtocol (node: SwarmNode, provider: ContentProvider, init: ManifestProtocolInit = {}): Promise<void> {
  const timeoutMs = init.timeoutMs ?? DEFAULT_MANIFEST_TIMEOUT_MS
  await node.handle(MANIFEST_PROTOCOL, async (stream: Stream) => {
    const signal = AbortSignal.timeout(timeoutMs)
    const framed = new FramedStream(stream, { maxFrameBytes: MAX_MANIFEST_REQUEST_BYTES })
    try {
      const frame = await framed.read(signal)
      if (frame == null) { stream.abort(new FrameError('manifest stream closed before a request')); return }
      const res = answerManifestRequest(provider, decodeManifestRequest(frame))
      await framed.write(encodeManifestResponse(res), signal)
      await framed.close(signal)
    } catch (err) {
      stream.abort(err as Error)
    }
  }, { maxInboundStreams: init.maxInboundStreams ?? 8 })
}

/** Options for fetchManifest. */
export interface FetchManifestInit {
  signal?: AbortSignal
  /** Time allowed for dial plus exchange, ms. Default DEFAULT_MANIFEST_TIMEOUT_MS. */
  timeoutMs?: number
}

/**
 * Fetches and verifies the manifest of `contentId` from `target`. Throws
 * ContentNotFoundError, ContentIdMismatchError, ManifestSignatureError,
 * MalformedManifestError or FrameError.
 */
export async function fetchManifest (node: SwarmNode, target: Multiaddr | PeerId, contentId: ContentId, init: FetchManifestInit = {}): Promise<VerifiedManifest> {
  const signal = withTimeout(init.signal, init.timeoutMs ?? DEFAULT_MANIFEST_TIMEOUT_MS)
  const stream = await node.dialProtocol(target, MANIFEST_PROTOCOL, { signal })
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
