/**
 * The local streaming gateway: a loopback HTTP server that lets any media
 * player play an item while it downloads.
 *
 * Routes (GET and HEAD; anything else is 405 with Allow):
 *   /c/CONTENT_ID            the item, with Range support (RFC 9110 via sendRange)
 *   /c/CONTENT_ID/FILENAME   the same under the item's own name, so players
 *                            guess the format from the URL
 *
 * Rules:
 * - It listens on 127.0.0.1 by default and answers only requests whose
 *   Host header names the gateway itself (127.0.0.1:PORT, localhost:PORT,
 *   [::1]:PORT, or the bound HOST:PORT); anything else gets 421. A web page
 *   that rebinds its own DNS name to 127.0.0.1 therefore cannot read
 *   through the gateway (DNS rebinding), and with no CORS headers a page
 *   on another origin cannot read the answers either.
 * - GET and HEAD change no state: they never start a download. An item is
 *   streamable only once something (the `stream` command, the peer) opened
 *   it in the `downloads` catalog; any other id is 404. A GET does move
 *   the download's priority window to the bytes it reads — that is the
 *   read itself asking for its data, not a new download.
 * - Only verified bytes are sent: bodies come from StreamableItem.read,
 *   which reads pieces from disk after they verified.
 * - A client that goes away aborts its read (sendRange's signal), which
 *   ends the wait and closes the file handle.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ContentId } from '../core/content/content-id.js'
import { sendRange } from '../http/send-range.js'
import { closerFor, contentDisposition, createItemServer, isReadMethod, listenOn, parseItemTarget, resolveItemServerLimits, sendPlainText, type ItemServerLimits } from '../http/item-server.js'
import type { StreamableItem } from './streaming-download.js'
import type { ConnectionGuardStats } from '../http/connection-guard.js'

/** What the gateway streams from: the items opened for streaming, by content id. */
export interface StreamingCatalog {
  /** The item opened for `id`, or undefined (the gateway answers 404). Must not start anything. */
  get: (id: ContentId) => StreamableItem | undefined
}

/** Defaults for StreamingGatewayInit, in one place. */
export const GATEWAY_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  maxConnections: 64,
  // Every client of a loopback gateway has the same address: the per-address cap is the total.
  maxConnectionsPerAddress: 64,
  headersTimeoutMs: 10_000,
  minRequestBytesPerSec: 256,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxRequestsPerSocket: 1000,
  idleSocketTimeoutMs: 300_000,
  // A paused player stops reading: as long as the idle limit (when full, a stalled response still yields its slot after 1 s).
  stalledResponseMs: 300_000
} as const

/**
 * Options for startStreamingGateway; the connection limits
 * (ItemServerLimits) default to GATEWAY_DEFAULTS, which differ from a web
 * seed's where a player differs from a downloader: a paused player stops
 * reading for minutes.
 */
export interface StreamingGatewayInit extends Partial<ItemServerLimits> {
  /** The items that may be streamed (required). */
  downloads: StreamingCatalog
  /** Address to listen on. Default 127.0.0.1. Binding anything else exposes your downloads: think twice. */
  host?: string
  /** Closes the gateway when aborted. */
  signal?: AbortSignal
  /** Called with each chunk's size as it is written to a response. */
  onBytesSent?: (contentId: ContentId, bytes: number) => void
}

/** A running gateway. */
export interface StreamingGateway {
  /** Base URL, e.g. http://127.0.0.1:8765. */
  url: string
  /** The port actually bound. */
  port: number
  /** The URL a player should open for an item: `${url}/c/ID/NAME`. */
  urlFor: (item: StreamableItem) => string
  /** Responses being sent now. */
  activeResponses: () => number
  /** Connections open, refused, evicted, cut as too slow or stalled (see src/http/connection-guard.ts). */
  connections: () => ConnectionGuardStats
  /** Stops listening, cuts open responses, resolves when closed. */
  close: () => Promise<void>
}

/** The gateway could not be started (bad option, port in use...). */
export class StreamingGatewayError extends Error {
  override name = 'StreamingGatewayError'
  readonly code = 'ERR_STREAMING_GATEWAY'
}

const ALLOWED_METHODS = 'GET, HEAD'

/** Starts the streaming gateway; resolves once it is listening. */
export async function startStreamingGateway (init: StreamingGatewayInit): Promise<StreamingGateway> {
  const { downloads, signal } = init
  const host = init.host ?? GATEWAY_DEFAULTS.host
  const limits = resolveItemServerLimits(init, GATEWAY_DEFAULTS, message => new StreamingGatewayError(message))
  signal?.throwIfAborted()

  let allowedHosts = new Set<string>()
  let active = 0
  const { server, connections } = createItemServer(limits, async (req, res) => {
    active++
    res.once('close', () => { active-- })
    await handle(req, res)
  })

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const hostHeader = (req.headers.host ?? '').toLowerCase()
    if (!allowedHosts.has(hostHeader)) {
      sendPlainText(res, 421, 'this gateway answers only requests addressed to itself (Host: 127.0.0.1:PORT or localhost:PORT)')
      return
    }
    if (!isReadMethod(req)) {
      sendPlainText(res, 405, `method ${req.method ?? '?'} not allowed; use GET or HEAD`, { allow: ALLOWED_METHODS })
      return
    }
    const target = parseItemTarget(req.url, '/c/CONTENT_ID/NAME')
    if (!target.ok) {
      sendPlainText(res, target.status, target.message)
      return
    }
    const { id, tail: name } = target
    const item = downloads.get(id)
    if (item == null) {
      sendPlainText(res, 404, `item ${id} is not open for streaming here; start it with: swarmcdn stream ${id}`)
      return
    }
    if (name != null) {
      if (name !== item.manifest.name) {
        sendPlainText(res, 404, `item ${id} is named ${JSON.stringify(item.manifest.name)}`)
        return
      }
    }
    const m = item.manifest
    await sendRange(req, res, {
      lengthBytes: m.lengthBytes,
      mediaType: m.mediaType,
      etag: `"${m.contentId}"`,
      headers: {
        // The bytes never change, but the gateway is ephemeral: let players cache, not shared caches.
        'cache-control': 'private, max-age=3600',
        'x-content-type-options': 'nosniff',
        'content-disposition': contentDisposition(m.name)
      },
      openStream: (start, endInclusive, readSignal) => item.read(start, endInclusive, readSignal),
      onBytesSent: init.onBytesSent == null ? undefined : n => { init.onBytesSent?.(m.contentId, n) }
    })
  }

  const { address, url } = await listenOn(server, host, limits.port, message => new StreamingGatewayError(message))
  const urlHost = url.slice('http://'.length, url.lastIndexOf(':'))
  allowedHosts = new Set([`127.0.0.1:${address.port}`, `localhost:${address.port}`, `[::1]:${address.port}`, `${urlHost.toLowerCase()}:${address.port}`])
  const close = closerFor(server, signal)

  return {
    url,
    port: address.port,
    urlFor: item => `${url}/c/${item.manifest.contentId}/${encodeURIComponent(item.manifest.name)}`,
    activeResponses: () => active,
    connections,
    close
  }
}

/** A catalog of the items opened for streaming in this process; `open` is the explicit API that starts one. */
export class StreamingItems implements StreamingCatalog {
  private readonly items = new Map<ContentId, StreamableItem>()

  /** Makes `item` streamable (replacing an earlier one with the same id). */
  add (item: StreamableItem): void {
    this.items.set(item.manifest.contentId, item)
  }

  /** Stops offering `id`. */
  remove (id: ContentId): void {
    this.items.delete(id)
  }

  get (id: ContentId): StreamableItem | undefined {
    return this.items.get(id)
  }
}
