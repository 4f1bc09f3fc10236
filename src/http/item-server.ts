/**
 * What the web seed and the streaming gateway share as HTTP servers of
 * items: the `/c/CONTENT_ID[/NAME]` route, one-line text answers, the
 * Content-Disposition header, listening and closing. One copy, so the two
 * servers cannot drift apart.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { parseContentId, type ContentId } from '../core/content/content-id.js'
import { guardConnections, type ConnectionGuardStats } from './connection-guard.js'

/** Where a request for an item points, or why it points nowhere. */
export type ItemTarget =
  | { ok: true, id: ContentId, /** the decoded path segment after the id, if any */ tail?: string }
  | { ok: false, status: 400 | 404, message: string }

/** Parses `/c/CONTENT_ID` and `/c/CONTENT_ID/TAIL` from a request target. */
export function parseItemTarget (requestUrl: string | undefined, hint: string): ItemTarget {
  let pathname: string
  try {
    pathname = new URL(requestUrl ?? '/', 'http://item-server.invalid').pathname
  } catch {
    return { ok: false, status: 400, message: 'malformed request target' }
  }
  const parts = pathname.split('/')
  if (parts.length < 3 || parts.length > 4 || parts[0] !== '' || parts[1] !== 'c') {
    return { ok: false, status: 404, message: `not found; items are at ${hint}` }
  }
  let id: ContentId
  try {
    id = parseContentId(parts[2])
  } catch {
    return { ok: false, status: 400, message: 'malformed content id' }
  }
  if (parts.length === 3) return { ok: true, id }
  try {
    return { ok: true, id, tail: decodeURIComponent(parts[3]) }
  } catch {
    return { ok: false, status: 400, message: 'malformed file name in path' }
  }
}

/** Answers with a one-line plain-text body that is never cached. */
export function sendPlainText (res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}): void {
  const body = `${message}\n`
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...extra }).end(body)
}

/** RFC 6266 Content-Disposition with an ASCII fallback and the exact UTF-8 name (RFC 8187). */
export function contentDisposition (name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_')
  const encoded = encodeURIComponent(name).replace(/['()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase())
  return `inline; filename="${ascii}"; filename*=UTF-8''${encoded}`
}

/** Answers unparseable requests with a bare 400 instead of node's default reset. */
export function answerClientErrors (server: Server): void {
  server.on('clientError', (_err: Error, socket: Socket) => {
    if (socket.writable && !socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    else socket.destroy()
  })
}

/** Starts listening; a failure (port in use, bad host) becomes `makeError(message)`. */
export async function listenOn (server: Server, host: string, port: number, makeError: (message: string) => Error): Promise<{ address: AddressInfo, url: string }> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(makeError(`cannot listen on ${host}:${port}: ${err.code ?? err.message}`))
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return { address, url: `http://${urlHost}:${address.port}` }
}

/** An idempotent close that also cuts open responses, run on `signal` abort too. */
export function closerFor (server: Server, signal?: AbortSignal): () => Promise<void> {
  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    closing ??= new Promise<void>(resolve => {
      signal?.removeEventListener('abort', onAbort)
      server.close(() => { resolve() })
      server.closeAllConnections()
    })
    await closing
  }
  const onAbort = (): void => { void close() }
  signal?.addEventListener('abort', onAbort, { once: true })
  return close
}

/** True for the methods item servers answer. */
export function isReadMethod (req: IncomingMessage): boolean {
  return req.method === 'GET' || req.method === 'HEAD'
}

/**
 * Connection limits and timeouts an item server takes (see
 * connection-guard.ts for the rules). Each server has its own defaults,
 * in one object: WEBSEED_DEFAULTS (seeders/web-seed.ts), GATEWAY_DEFAULTS
 * (src/client/streaming-gateway.ts).
 */
export interface ItemServerLimits {
  /** TCP port; 0 takes any free port (read it back from the server). */
  port: number
  /** Open connections at once; when full, a newcomer takes the slot of a connection that has not sent its request yet (slowloris) or whose client stopped reading, else it is closed. */
  maxConnections: number
  /** Open connections from one IP address; more are closed on arrival, so one host cannot take every slot. */
  maxConnectionsPerAddress: number
  /** Time allowed to receive a request's headers, ms, enforced to within 250 ms (a real deadline: slowloris guard). */
  headersTimeoutMs: number
  /** Least average rate at which a client sends its request headers, bytes/s; slower is cut after 1 s (one header line a second is slowloris). */
  minRequestBytesPerSec: number
  /** Time allowed to receive a whole request (not the response), ms. */
  requestTimeoutMs: number
  /** How long an idle keep-alive connection is kept, ms. */
  keepAliveTimeoutMs: number
  /** Requests served on one kept-alive connection before it is closed. */
  maxRequestsPerSocket: number
  /** A connection with no bytes moving either way for this long is destroyed, ms (a client that stops reading holds a file handle otherwise). */
  idleSocketTimeoutMs: number
  /** A response whose client stopped reading (no bytes accepted) for this long is cut and its slot freed, ms. */
  stalledResponseMs: number
}

/** Fills `init` from `defaults` and rejects invalid values with `makeError(message)`. */
export function resolveItemServerLimits (init: Partial<ItemServerLimits>, defaults: ItemServerLimits, makeError: (message: string) => Error): ItemServerLimits {
  const port = init.port ?? defaults.port
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw makeError(`port must be 0..65535, got ${port}`)
  const positive = (name: keyof ItemServerLimits): number => {
    const value = init[name] ?? defaults[name]
    if (!Number.isSafeInteger(value) || value <= 0) throw makeError(`${name} must be a positive integer, got ${value}`)
    return value
  }
  return {
    port,
    maxConnections: positive('maxConnections'),
    maxConnectionsPerAddress: positive('maxConnectionsPerAddress'),
    headersTimeoutMs: positive('headersTimeoutMs'),
    minRequestBytesPerSec: positive('minRequestBytesPerSec'),
    requestTimeoutMs: positive('requestTimeoutMs'),
    keepAliveTimeoutMs: positive('keepAliveTimeoutMs'),
    maxRequestsPerSocket: positive('maxRequestsPerSocket'),
    idleSocketTimeoutMs: positive('idleSocketTimeoutMs'),
    stalledResponseMs: positive('stalledResponseMs')
  }
}

/** An item server and its connection accounting. */
export interface GuardedServer {
  server: Server
  /** What the connection guard did so far (tests, metrics). */
  connections: () => ConnectionGuardStats
}

/**
 * A node:http server with the limits applied. `handle` never throwing is
 * the contract; a bug that does becomes a 500 or a cut connection rather
 * than an unhandled rejection.
 */
export function createItemServer (limits: ItemServerLimits, handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): GuardedServer {
  const server = createServer({
    // node requires headersTimeout <= requestTimeout; connection-guard.ts enforces the header deadline precisely
    headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs
  }, (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendPlainText(res, 500, 'internal error')
      else res.destroy()
    })
  })
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket
  // without a 'timeout' listener node destroys the idle socket, which is what we want
  server.timeout = limits.idleSocketTimeoutMs
  answerClientErrors(server)
  // Our own accounting instead of server.maxConnections: that one refuses newcomers, not the sockets that hold slots idle.
  const connections = guardConnections(server, limits)
  return { server, connections }
}
