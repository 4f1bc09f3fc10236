/**
 * The HTTP web seed: a seeder's items over plain HTTP, so any HTTP client
 * (curl, a browser, a media player, a peer whose libp2p is blocked) can
 * fetch the long tail.
 *
 * Routes (GET and HEAD only; anything else is 405 with Allow):
 *   /c/CONTENT_ID            the item's bytes, with Range support
 *   /c/CONTENT_ID/FILENAME   the same, under the item's own name so players
 *                            and browsers guess the format from the URL
 *   /c/CONTENT_ID/manifest   the signed manifest bytes (this route wins if
 *                            an item is itself named "manifest")
 * Everything else is 404; a malformed id is 400. There is no listing, and
 * the only thing taken from the path is a content id checked by
 * parseContentId and a name compared for equality, so no path reaches the
 * file system.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import type { Registry } from 'prom-client'
import type { VerifiedManifest } from '../src/core/content/manifest.js'
import { sendRange } from '../src/http/send-range.js'
import { closerFor, contentDisposition, createItemServer, isReadMethod, listenOn, parseItemTarget, resolveItemServerLimits, sendPlainText, type ItemServerLimits } from '../src/http/item-server.js'
import type { ContentStore } from '../src/store/content-store.js'
import type { ConnectionGuardStats } from '../src/http/connection-guard.js'
import { WebSeedMetrics, type WebSeedRoute } from './web-seed-metrics.js'
import type { LocalityClass } from '../src/core/proximity/locality.js'

/** Media type of the signed manifest route. */
export const MANIFEST_MEDIA_TYPE = 'application/vnd.swarmcdn.manifest'

/** Defaults for WebSeedInit, in one place. */
export const WEBSEED_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  maxConnections: 256,
  maxConnectionsPerAddress: 32,
  headersTimeoutMs: 10_000,
  minRequestBytesPerSec: 256,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxRequestsPerSocket: 1000,
  idleSocketTimeoutMs: 60_000,
  stalledResponseMs: 10_000
} as const

/** Options for startWebSeed; the connection limits (ItemServerLimits) default to WEBSEED_DEFAULTS. */
export interface WebSeedInit extends Partial<ItemServerLimits> {
  /** The items to serve (required). */
  store: ContentStore
  /** Address to listen on. Default 127.0.0.1 (pass 0.0.0.0 or :: to serve the world). */
  host?: string
  /** Closes the web seed when aborted. */
  signal?: AbortSignal
  /** prom-client registry for the counters. Default: a new private registry (see WebSeed.metrics.registry). */
  registry?: Registry
  /** The locality class of a client by its IP address, for bytes served by locality (the seeder's ranker). Default: every client 'unknown'. */
  localityOf?: (remoteAddress: string | undefined) => LocalityClass
}

/** A running web seed. */
export interface WebSeed {
  /** Base URL, e.g. http://127.0.0.1:41234 (item URLs are `${url}/c/${contentId}`). */
  url: string
  /** The port actually bound. */
  port: number
  /** Bytes served per item, and the prom-client counters. */
  metrics: WebSeedMetrics
  /** Connections open, refused, evicted, cut as too slow or stalled (see src/http/connection-guard.ts). */
  connections: () => ConnectionGuardStats
  /** Stops listening, cuts open responses (their sources are destroyed) and resolves when the server has closed. */
  close: () => Promise<void>
}

/** The web seed could not be started (bad option, port in use...). */
export class WebSeedError extends Error {
  override name = 'WebSeedError'
  readonly code = 'ERR_WEBSEED'
}

const ALLOWED_METHODS = 'GET, HEAD'
/** Content-addressed bytes never change, so any cache may keep them forever. */
const IMMUTABLE = 'public, max-age=31536000, immutable'

/** Starts an HTTP web seed for `init.store`; resolves once it is listening. */
export async function startWebSeed (init: WebSeedInit): Promise<WebSeed> {
  const { store, signal } = init
  const host = init.host ?? WEBSEED_DEFAULTS.host
  const limits = resolveItemServerLimits(init, WEBSEED_DEFAULTS, message => new WebSeedError(message))
  signal?.throwIfAborted()
  const metrics = new WebSeedMetrics(init.registry)
  const { server, connections } = createItemServer(limits, handle)

  function plain (res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}): void {
    metrics.addResponse(status)
    sendPlainText(res, status, message, extra)
  }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isReadMethod(req)) {
      plain(res, 405, `method ${req.method ?? '?'} not allowed; use GET or HEAD`, { allow: ALLOWED_METHODS })
      return
    }
    const target = parseItemTarget(req.url, '/c/CONTENT_ID')
    if (!target.ok) {
      plain(res, target.status, target.message)
      return
    }
    const { id, tail: name } = target
    const manifest = store.manifest(id)
    if (manifest == null) {
      plain(res, 404, `no item ${id} on this seeder`)
      return
    }
    if (name == null) {
      await sendItem(req, res, manifest)
      return
    }
    if (name === 'manifest') {
      await sendManifest(req, res, manifest)
      return
    }
    if (name !== manifest.name) {
      plain(res, 404, `item ${id} is named ${JSON.stringify(manifest.name)}`)
      return
    }
    await sendItem(req, res, manifest)
  }

  function commonHeaders (): Record<string, string> {
    return {
      'cache-control': IMMUTABLE,
      'x-content-type-options': 'nosniff',
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'Accept-Ranges, Content-Length, Content-Range, ETag'
    }
  }

  async function sendItem (req: IncomingMessage, res: ServerResponse, m: VerifiedManifest): Promise<void> {
    const route: WebSeedRoute = 'data'
    const locality = init.localityOf?.(req.socket.remoteAddress) ?? 'unknown'
    await sendRange(req, res, {
      lengthBytes: m.lengthBytes,
      mediaType: m.mediaType,
      etag: `"${m.contentId}"`,
      headers: { ...commonHeaders(), 'content-disposition': contentDisposition(m.name) },
      openStream: (start, endInclusive) => store.createRangeStream(m.contentId, start, endInclusive),
      onBytesSent: n => { metrics.addBytes(m.contentId, route, n); metrics.bytesByLocality[locality] += n },
      onStatus: status => { metrics.addResponse(status) }
    })
  }

  async function sendManifest (req: IncomingMessage, res: ServerResponse, m: VerifiedManifest): Promise<void> {
    await sendRange(req, res, {
      lengthBytes: m.signedBytes.length,
      mediaType: MANIFEST_MEDIA_TYPE,
      etag: `"${m.contentId}.manifest"`,
      headers: commonHeaders(),
      openStream: (start, endInclusive) => Readable.from([Buffer.from(m.signedBytes.buffer, m.signedBytes.byteOffset + start, endInclusive - start + 1)]),
      onBytesSent: n => { metrics.addBytes(m.contentId, 'manifest', n) },
      onStatus: status => { metrics.addResponse(status) }
    })
  }

  const { address, url } = await listenOn(server, host, limits.port, message => new WebSeedError(message))
  const close = closerFor(server, signal)
  return { url, port: address.port, metrics, connections, close }
}
