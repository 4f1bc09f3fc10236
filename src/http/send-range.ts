/**
 * Answers one GET or HEAD for a byte sequence of known length with Range
 * support: 200, 206, 304 or 416 with the right headers, and a body taken
 * from a stream the caller opens for exactly the bytes chosen.
 *
 * Rules:
 * - The source is opened only when a body is due (not for HEAD, 304, 416
 *   or an empty body), and before any header is written, so a source that
 *   fails to open still gets a clean 500.
 * - The source gets an AbortSignal that fires when the client goes away;
 *   a source that waits (for pieces still downloading) should stop waiting
 *   on it. The source is destroyed on disconnect, error or length mismatch
 *   (stream.pipeline does this), so no file handle outlives its response.
 * - The body must be exactly the announced length. A source that ends
 *   early or runs long is an error: the response is cut (socket destroyed)
 *   so the client sees a failed transfer, never a silently wrong file.
 * - Bytes are reported as they are handed to the socket, so a long
 *   transfer shows up in bandwidth metrics while it runs.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream'
import { finished } from 'node:stream/promises'
import { contentRangeHeader, ifNoneMatchMatches, ifRangeAllowsPartial, rangeLengthBytes, resolveByteRange, wholeRange, type ByteRange } from './byte-ranges.js'

/** Opens the bytes `start`..`endInclusive` (both within the item); `signal` aborts when the client disconnects. */
export type RangeSource = (start: number, endInclusive: number, signal: AbortSignal) => Readable | AsyncIterable<Uint8Array> | Promise<Readable | AsyncIterable<Uint8Array>>

/** What sendRange needs to know about the representation. */
export interface SendRangeInit {
  /** Length of the whole representation in bytes (a safe non-negative integer). */
  lengthBytes: number
  /** Content-Type of the representation. */
  mediaType: string
  /** Strong ETag, quotes included (e.g. `"bafkrei…"`); enables If-Range and If-None-Match. Default: none. */
  etag?: string
  /** Produces the body for the chosen range. */
  openStream: RangeSource
  /** Extra headers for every answer (Cache-Control, Content-Disposition, CORS…). Default: none. */
  headers?: OutgoingHttpHeaders
  /** Called with each chunk's size as it is written to the response. */
  onBytesSent?: (bytes: number) => void
  /**
   * Called once with the status as its head is written (before any body
   * byte), so a counter of responses is up to date when the client has
   * read the whole body; the returned promise settles only after the
   * socket finishes, which can be later. Default: none.
   */
  onStatus?: (status: number) => void
}

/** How a response ended. */
export interface SendRangeResult {
  /** HTTP status sent (200, 206, 304, 416, or 500 when the source failed to open). */
  status: number
  /** The range decided from the request headers. */
  range: ByteRange
  /** Body bytes written to the response. */
  bytesSent: number
  /** True when the whole response (headers and the full body) was handed to the socket. */
  completed: boolean
  /** Why it did not complete: a source error, a length mismatch or the client leaving (ERR_STREAM_PREMATURE_CLOSE). */
  error?: Error
}

/** A range source that produced more or fewer bytes than it was asked for. */
export class RangeSourceLengthError extends Error {
  override name = 'RangeSourceLengthError'
  readonly code = 'ERR_RANGE_SOURCE_LENGTH'
}

/** Counts bytes on their way to the response and enforces the announced length. */
class ExactLengthCounter extends Transform {
  sentBytes = 0

  constructor (private readonly expectedBytes: number, private readonly onBytes?: (bytes: number) => void) {
    super()
  }

  override _transform (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.sentBytes + chunk.length > this.expectedBytes) {
      callback(new RangeSourceLengthError(`range source produced more than the ${this.expectedBytes} bytes asked for`))
      return
    }
    this.sentBytes += chunk.length
    this.onBytes?.(chunk.length)
    callback(null, chunk)
  }

  override _flush (callback: TransformCallback): void {
    callback(this.sentBytes === this.expectedBytes ? null : new RangeSourceLengthError(`range source ended after ${this.sentBytes} of ${this.expectedBytes} bytes`))
  }
}

async function settled (res: ServerResponse): Promise<boolean> {
  try {
    await finished(res)
    return true
  } catch {
    return false
  }
}

/**
 * Answers `req` (GET or HEAD; any other method is treated as GET, so route
 * methods first) on `res`. Resolves when the response is over, never
 * rejects for client or source trouble: see SendRangeResult.
 */
export async function sendRange (req: IncomingMessage, res: ServerResponse, init: SendRangeInit): Promise<SendRangeResult> {
  const n = init.lengthBytes
  const isHead = req.method === 'HEAD'
  const base: OutgoingHttpHeaders = { ...init.headers, 'accept-ranges': 'bytes' }
  if (init.etag != null) base.etag = init.etag

  if (ifNoneMatchMatches(header(req, 'if-none-match'), init.etag)) {
    const range = wholeRange(n)
    init.onStatus?.(304)
    res.writeHead(304, base).end()
    return { status: 304, range, bytesSent: 0, completed: await settled(res) }
  }

  const range = ifRangeAllowsPartial(header(req, 'if-range'), init.etag) ? resolveByteRange(header(req, 'range'), n) : wholeRange(n)
  if (range.kind === 'unsatisfiable') {
    init.onStatus?.(416)
    res.writeHead(416, { ...base, 'content-range': contentRangeHeader(range, n), 'content-length': 0 }).end()
    return { status: 416, range, bytesSent: 0, completed: await settled(res) }
  }

  const status = range.kind === 'partial' ? 206 : 200
  const bodyBytes = rangeLengthBytes(range)
  const headers: OutgoingHttpHeaders = { ...base, 'content-type': init.mediaType, 'content-length': bodyBytes }
  if (range.kind === 'partial') headers['content-range'] = contentRangeHeader(range, n)

  if (isHead || bodyBytes === 0) {
    init.onStatus?.(status)
    res.writeHead(status, headers).end()
    return { status, range, bytesSent: 0, completed: await settled(res) }
  }

  const clientGone = new AbortController()
  res.once('close', () => { clientGone.abort() })
  let source: Readable | AsyncIterable<Uint8Array>
  try {
    source = await init.openStream(range.start, range.endInclusive, clientGone.signal)
  } catch (err) {
    init.onStatus?.(500)
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('cannot read this item\n')
    }
    return { status: 500, range, bytesSent: 0, completed: false, error: err as Error }
  }
  if (res.destroyed || clientGone.signal.aborted) {
    destroySource(source)
    init.onStatus?.(status)
    return { status, range, bytesSent: 0, completed: false, error: new Error('client disconnected before the body started') }
  }

  init.onStatus?.(status)
  res.writeHead(status, headers)
  const counter = new ExactLengthCounter(bodyBytes, init.onBytesSent)
  return await new Promise<SendRangeResult>(resolve => {
    pipeline(source, counter, res, err => {
      resolve({ status, range, bytesSent: counter.sentBytes, completed: err == null, ...(err != null ? { error: err } : {}) })
    })
  })
}

function header (req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v.join(', ') : v
}

function destroySource (source: Readable | AsyncIterable<Uint8Array>): void {
  if ('destroy' in source && typeof source.destroy === 'function') {
    source.destroy()
  } else {
    const it = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
    void it.return?.()
  }
}
