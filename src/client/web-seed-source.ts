/**
 * A web seed as a download source: the item's pieces fetched with HTTP
 * range requests from `BASE/c/CONTENT_ID` (seeders/web-seed.ts or any
 * server that answers byte ranges), its signed manifest from
 * `BASE/c/CONTENT_ID/manifest`.
 *
 * It has the shape the downloader drives an xfer source by (request,
 * cancel, messages, fail, close), so the piece picker, verification and
 * resume are the same for both: a web seed is a source that holds every
 * piece and says it is an origin (it is the publisher's). Each request is
 * one range GET on a keep-alive connection, at most `maxRequests` at once;
 * a response is checked for shape here (status, Content-Range, length) and
 * its hash by the caller before anything is written.
 */
import http from 'node:http'
import https from 'node:https'
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

/** Fetches and verifies `contentId`'s signed manifest from a web seed item URL. Throws ContentNotFoundError (404), WebSeedResponseError, or the manifest's verification errors. */
export async function fetchWebSeedManifest (itemUrl: string, contentId: ContentId, init: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<VerifiedManifest> {
  const signal = withDeadline(init.signal, init.timeoutMs ?? DEFAULT_WEB_SEED_CONNECT_TIMEOUT_MS)
  const res = await send(webSeedManifestUrl(itemUrl), { method: 'GET', signal })
  if (res.statusCode === 404) { res.destroy(); throw new ContentNotFoundError(`web seed does not have ${contentId}`) }
  if (res.statusCode !== 200) { res.destroy(); throw new WebSeedResponseError(`web seed answered ${res.statusCode ?? '?'} for the manifest`) }
  const bytes = await readBody(res, MAX_MANIFEST_BYTES, signal)
  return openSignedManifest(bytes.subarray(), contentId)
}

/** Range requests to one web seed for one item (see the file's rules). */
export class WebSeedConnection {
  /** A web seed holds every piece. */
  readonly remoteBitfield: Bitfield
  /** A web seed is the publisher's: its bytes count as an origin's. */
  readonly remoteIsOrigin = true
  private readonly agent: http.Agent
  private readonly inFlight = new Map<number, AbortController>()
  private readonly ready: ReceivedPieceMessage[] = []
  private wake: (() => void) | undefined
  private failed: Error | undefined
  private closed = false

  private constructor (private readonly itemUrl: string, private readonly manifest: VerifiedManifest, maxRequests: number) {
    this.remoteBitfield = Bitfield.full(manifest.pieceCount)
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

  /** Asks for piece `index` (a range GET; never blocks the caller). */
  request (index: number): void {
    if (this.failed != null || this.closed || this.inFlight.has(index)) return
    const ac = new AbortController()
    this.inFlight.set(index, ac)
    void this.fetchPiece(index, ac.signal).then(data => {
      if (this.inFlight.get(index) !== ac) return
      this.inFlight.delete(index)
      this.ready.push({ type: 'piece', index, data })
      this.notify()
    }, (err: unknown) => {
      if (this.inFlight.get(index) !== ac) return
      this.inFlight.delete(index)
      this.fail(err as Error)
    })
  }

  /** Withdraws a request: its response is cut. */
  cancel (index: number): void {
    const ac = this.inFlight.get(index)
    this.inFlight.delete(index)
    ac?.abort(new Error('cancelled'))
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
    for (const ac of this.inFlight.values()) ac.abort(err)
    this.inFlight.clear()
    this.agent.destroy()
    this.notify()
  }

  private notify (): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  private async fetchPiece (index: number, signal: AbortSignal): Promise<Uint8ArrayList> {
    const { lengthBytes, pieceSizeBytes } = this.manifest
    const start = index * pieceSizeBytes
    const length = pieceLengthAt(index, lengthBytes, pieceSizeBytes)
    const end = start + length - 1
    const res = await send(this.itemUrl, { method: 'GET', agent: this.agent, headers: { range: `bytes=${start}-${end}` }, signal })
    const whole = start === 0 && length === lengthBytes
    if (res.statusCode === 206) {
      const expected = `bytes ${start}-${end}/${lengthBytes}`
      if (res.headers['content-range'] !== expected) { res.destroy(); throw new WebSeedResponseError(`web seed answered range ${String(res.headers['content-range'])} for ${expected}`) }
    } else if (!(res.statusCode === 200 && whole)) {
      res.destroy()
      throw new WebSeedResponseError(`web seed answered ${res.statusCode ?? '?'} for piece ${index}`)
    }
    const data = await readBody(res, length, signal)
    if (data.byteLength !== length) throw new WebSeedResponseError(`web seed sent ${data.byteLength} bytes of piece ${index}, expected ${length}`)
    return data
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
