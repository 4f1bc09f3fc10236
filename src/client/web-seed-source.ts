/**
 * A web seed as a download source: the item's pieces fetched with HTTP
 * range requests from `BASE/c/CONTENT_ID` (seeders/web-seed.ts or any
 * server that answers byte ranges), its signed manifest from
 * `BASE/c/CONTENT_ID/manifest`.
 *
 * It has the shape the downloader drives an xfer source by (request,
 * cancel, messages, fail, close), so the piece picker, verification and
 * resume are the same for both: a web seed is a source that holds every
 * piece and says it is an origin (it is the publisher's). Requested pieces
 * go out as range GETs on keep-alive connections: consecutive ones share a
 * range (at most `maxRequests` pieces), and while an earlier range is still
 * arriving, new requests wait until half of `maxRequests` can go together
 * (or that range ends). Each piece is handed on as soon as its bytes are in; a
 * response is checked for shape here (status, Content-Range, length) and
 * each piece's hash by the caller before anything is written.
 */
import http from 'node:http'
import https from 'node:https'
import { isIP } from 'node:net'
import { Uint8ArrayList } from 'uint8arraylist'
import type { ContentId } from '../core/content/content-id.js'
import { MAX_MANIFEST_BYTES, openSignedManifest, type VerifiedManifest } from '../core/content/manifest.js'
import { pieceLengthAt } from '../core/content/pieces.js'
import { Bitfield } from '../core/swarm/bitfield.js'
import type { ReceivedPieceMessage } from '../net/xfer-codec.js'
import { ContentNotFoundError } from '../net/manifest-protocol.js'
import { webSeedManifestUrl } from './share-link.js'

/** Default time for the first answer of a web seed (its HEAD or manifest), ms. */
export const DEFAULT_WEB_SEED_CONNECT_TIMEOUT_MS = 15_000

/** A web seed answered something other than the bytes asked for (a wrong status, range or length), or not at all. */
export class WebSeedResponseError extends Error {
  override name = 'WebSeedResponseError'
  readonly code = 'ERR_WEB_SEED_RESPONSE'
}

/** Options for WebSeedConnection.open. */
export interface WebSeedConnectionInit {
  signal?: AbortSignal
  /** Time for the web seed to answer the opening HEAD, ms. Default DEFAULT_WEB_SEED_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number
  /** Range requests at once (also the keep-alive connections kept open). Default 8. */
  maxRequests?: number
}

/** True when a download source's address is a web seed URL rather than a multiaddr. */
export function isWebSeedAddress (address: string): boolean {
  return /^https?:\/\//i.test(address)
}

/**
 * The host of a web seed URL as a multiaddr (`/ip4/H/tcp/P`, `/ip6/...`,
 * `/dns/...`), so proximity and transit accounting can place it like a
 * peer; undefined for a URL that does not parse.
 */
export function webSeedHostMultiaddr (url: string): string | undefined {
  let u: URL
  try { u = new URL(url) } catch { return undefined }
  const host = u.hostname.replace(/^\[|\]$/g, '')
  const port = u.port !== '' ? u.port : (u.protocol === 'https:' ? '443' : '80')
  const kind = isIP(host) === 4 ? 'ip4' : isIP(host) === 6 ? 'ip6' : 'dns'
  return `/${kind}/${host}/tcp/${port}`
}

/** Fetches and verifies `contentId`'s signed manifest from a web seed item URL. Throws ContentNotFoundError (404), WebSeedResponseError, or the manifest's verification errors. */
export async function fetchWebSeedManifest (itemUrl: string, contentId: ContentId, init: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<VerifiedManifest> {
  const signal = withDeadline(init.signal, init.timeoutMs ?? DEFAULT_WEB_SEED_CONNECT_TIMEOUT_MS)
  const res = await send(webSeedManifestUrl(itemUrl), { method: 'GET', signal })
  if (res.statusCode === 404) { res.destroy(); throw new ContentNotFoundError(`web seed does not have ${contentId}`) }
  if (res.statusCode !== 200) { res.destroy(); throw new WebSeedResponseError(`web seed answered ${res.statusCode ?? '?'} for the manifest`) }
  const bytes = await readBody(res, MAX_MANIFEST_BYTES, signal)
  return openSignedManifest(bytes.subarray(), contentId)
}

/** One range request: pieces start..end (exclusive), delivered one by one as their bytes complete. */
interface Run { start: number, end: number, ac: AbortController, cancelled: boolean }

/** Range requests to one web seed for one item (see the file's rules). */
export class WebSeedConnection {
  /** A web seed holds every piece. */
  readonly remoteBitfield: Bitfield
  /** A web seed is the publisher's: its bytes count as an origin's. */
  readonly remoteIsOrigin = true
  private readonly agent: http.Agent
  /** Requested and not yet delivered or cancelled. */
  private readonly wanted = new Set<number>()
  /** Requested, not yet part of a sent range. */
  private queued: number[] = []
  private readonly runs = new Set<Run>()
  private flushScheduled = false
  /** Requests gathered before they are sent while earlier ranges are still arriving. */
  private readonly batchPieces: number
  private readonly ready: ReceivedPieceMessage[] = []
  private wake: (() => void) | undefined
  private failed: Error | undefined
  private closed = false

  private constructor (private readonly itemUrl: string, private readonly manifest: VerifiedManifest, private readonly maxRequests: number) {
    this.remoteBitfield = Bitfield.full(manifest.pieceCount)
    this.batchPieces = Math.max(1, Math.floor(maxRequests / 2))
    const Agent = itemUrl.startsWith('https:') ? https.Agent : http.Agent
    this.agent = new Agent({ keepAlive: true, maxSockets: maxRequests })
  }

  /** Checks with a HEAD that the web seed serves the item at its full length; throws ContentNotFoundError or WebSeedResponseError. */
  static async open (itemUrl: string, manifest: VerifiedManifest, init: WebSeedConnectionInit = {}): Promise<WebSeedConnection> {
    const conn = new WebSeedConnection(itemUrl, manifest, init.maxRequests ?? 8)
    try {
      const res = await send(itemUrl, { method: 'HEAD', agent: conn.agent, signal: withDeadline(init.signal, init.connectTimeoutMs ?? DEFAULT_WEB_SEED_CONNECT_TIMEOUT_MS) })
      res.resume()
      if (res.statusCode === 404) throw new ContentNotFoundError(`web seed does not have ${manifest.contentId}`)
      if (res.statusCode !== 200) throw new WebSeedResponseError(`web seed answered ${res.statusCode ?? '?'} for ${manifest.contentId}`)
      const length = Number(res.headers['content-length'])
      if (length !== manifest.lengthBytes) throw new WebSeedResponseError(`web seed has ${String(res.headers['content-length'])} bytes of ${manifest.contentId}, the manifest says ${manifest.lengthBytes}`)
      return conn
    } catch (err) {
      conn.agent.destroy()
      throw err
    }
  }

  /**
   * Asks for piece `index` (never blocks the caller). Requests made in one
   * go that are consecutive share one range GET; one made while a range is
   * still arriving waits for more to join it (fewer, longer responses: a
   * request costs both sides more than its bytes).
   */
  request (index: number): void {
    if (this.failed != null || this.closed || this.wanted.has(index)) return
    this.wanted.add(index)
    this.queued.push(index)
    this.scheduleFlush()
  }

  /** Withdraws a request; a range whose pieces are all withdrawn is cut. */
  cancel (index: number): void {
    if (!this.wanted.delete(index)) return
    this.queued = this.queued.filter(i => i !== index)
    for (const run of this.runs) {
      if (index < run.start || index >= run.end) continue
      let owed = false
      for (let i = run.start; i < run.end && !owed; i++) owed = this.wanted.has(i)
      if (!owed) { run.cancelled = true; run.ac.abort(new Error('cancelled')) }
    }
  }

  /**
   * Pieces as they arrive, until close() (then returns) or a fault (then
   * throws). Each wait lasts at most `idleTimeoutMs`.
   */
  async * messages (signal: AbortSignal, idleTimeoutMs: number): AsyncGenerator<ReceivedPieceMessage> {
    while (true) {
      if (this.failed != null) throw this.failed
      const next = this.ready.shift()
      if (next != null) { yield next; continue }
      if (this.closed) return
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new WebSeedResponseError(`web seed sent nothing for ${idleTimeoutMs} ms`)) }, idleTimeoutMs)
        const onAbort = (): void => { clearTimeout(timer); reject(signal.reason) }
        if (signal.aborted) { onAbort(); return }
        signal.addEventListener('abort', onAbort, { once: true })
        this.wake = () => { clearTimeout(timer); signal.removeEventListener('abort', onAbort); resolve() }
      }).catch((err: unknown) => { this.fail(err as Error); throw err })
    }
  }

  /** Stops every request with `err`; messages() throws it. */
  fail (err: Error): void {
    if (this.failed == null) this.failed = err
    this.stopAll(err)
  }

  /** Stops every request and closes the connections. */
  async close (): Promise<void> {
    this.closed = true
    this.stopAll(new Error('download finished'))
  }

  private stopAll (err: Error): void {
    for (const run of this.runs) { run.cancelled = true; run.ac.abort(err) }
    this.runs.clear()
    this.queued = []
    this.wanted.clear()
    this.agent.destroy()
    this.notify()
  }

  private notify (): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  /** Pieces of sent ranges not yet delivered. */
  private owedPieces (): number {
    return this.wanted.size - this.queued.length
  }

  private scheduleFlush (): void {
    if (this.flushScheduled || this.queued.length === 0) return
    this.flushScheduled = true
    // After the caller's current batch of requests (one pump of the session) is in.
    queueMicrotask(() => {
      this.flushScheduled = false
      if (this.failed != null || this.closed) return
      // Bytes still flowing: wait until a range's worth has gathered (a finishing range flushes the rest).
      if (this.owedPieces() > 0 && this.queued.length < this.batchPieces) return
      this.flush()
    })
  }

  /** Sends the queued requests as ranges of consecutive pieces, at most maxRequests pieces each. */
  private flush (): void {
    const indices = [...this.queued].sort((a, b) => a - b)
    this.queued = []
    let k = 0
    while (k < indices.length) {
      let end = indices[k] + 1
      let j = k + 1
      while (j < indices.length && indices[j] === end && end - indices[k] < this.maxRequests) { end++; j++ }
      this.startRun(indices[k], end)
      k = j
    }
  }

  private startRun (start: number, end: number): void {
    const run: Run = { start, end, ac: new AbortController(), cancelled: false }
    this.runs.add(run)
    void this.fetchRun(run).then(() => {
      this.runs.delete(run)
      this.scheduleFlush()
    }, (err: unknown) => {
      this.runs.delete(run)
      if (run.cancelled) { this.scheduleFlush(); return }
      this.fail(err as Error)
    })
  }

  /** One range GET for a run; each piece is handed to messages() as soon as its bytes are in. */
  private async fetchRun (run: Run): Promise<void> {
    const { lengthBytes, pieceSizeBytes } = this.manifest
    const first = run.start * pieceSizeBytes
    const last = Math.min(run.end * pieceSizeBytes, lengthBytes) - 1
    const signal = run.ac.signal
    const res = await send(this.itemUrl, { method: 'GET', agent: this.agent, headers: { range: `bytes=${first}-${last}` }, signal })
    if (res.statusCode === 206) {
      const expected = `bytes ${first}-${last}/${lengthBytes}`
      if (res.headers['content-range'] !== expected) { res.destroy(); throw new WebSeedResponseError(`web seed answered range ${String(res.headers['content-range'])} for ${expected}`) }
    } else if (!(res.statusCode === 200 && first === 0 && last === lengthBytes - 1)) {
      res.destroy()
      throw new WebSeedResponseError(`web seed answered ${res.statusCode ?? '?'} for pieces ${run.start}-${run.end - 1}`)
    }
    let index = run.start
    let piece = new Uint8ArrayList()
    let need = pieceLengthAt(index, lengthBytes, pieceSizeBytes)
    try {
      for await (const data of res) {
        let chunk = data as Uint8Array
        while (chunk.byteLength > 0) {
          if (index >= run.end) throw new WebSeedResponseError(`web seed sent more than the ${last - first + 1} bytes asked for`)
          const take = Math.min(need, chunk.byteLength)
          piece.append(chunk.subarray(0, take))
          chunk = chunk.subarray(take)
          need -= take
          if (need === 0) {
            if (this.wanted.delete(index)) { this.ready.push({ type: 'piece', index, data: piece }); this.notify(); this.scheduleFlush() }
            index++
            piece = new Uint8ArrayList()
            need = index < run.end ? pieceLengthAt(index, lengthBytes, pieceSizeBytes) : 0
          }
        }
      }
    } catch (err) {
      res.destroy()
      throw signal.aborted ? signal.reason : err
    }
    if (index < run.end) throw new WebSeedResponseError(`web seed ended pieces ${run.start}-${run.end - 1} early, at piece ${index}`)
  }
}

interface SendInit { method: 'GET' | 'HEAD', agent?: http.Agent, headers?: Record<string, string>, signal: AbortSignal }

/** One request, resolved with the response head (body not read). */
async function send (url: string, init: SendInit): Promise<http.IncomingMessage> {
  const get = url.startsWith('https:') ? https.request : http.request
  return await new Promise((resolve, reject) => {
    const req = get(url, { method: init.method, agent: init.agent, headers: init.headers, signal: init.signal }, resolve)
    req.once('error', err => { reject(init.signal.aborted ? init.signal.reason : err) })
    req.end()
  })
}

/** The body as its chunks, at most `maxBytes` (more is a WebSeedResponseError). */
async function readBody (res: http.IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<Uint8ArrayList> {
  const out = new Uint8ArrayList()
  try {
    for await (const chunk of res) {
      out.append(chunk as Uint8Array)
      if (out.byteLength > maxBytes) throw new WebSeedResponseError(`web seed sent more than the ${maxBytes} bytes asked for`)
    }
  } catch (err) {
    res.destroy()
    throw signal.aborted ? signal.reason : err
  }
  return out
}

/** `signal` (if any) combined with a deadline. */
function withDeadline (signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const deadline = AbortSignal.timeout(timeoutMs)
  return signal == null ? deadline : AbortSignal.any([signal, deadline])
}
