/**
 * The downloader: fetch and verify the manifest, then drive a
 * DownloadSession over one XferConnection per source, verify every piece
 * before it is written, keep resumable state on disk, and move the file
 * into place only when complete.
 *
 * Memory is bounded by requests in flight: per source at most
 * `maxRequests` pieces can be buffered by its stream, and each source's
 * pieces are verified and written one at a time before the next is read.
 */
import type { ConnectionKind } from '../net/piece-connection.js'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { parseContentId, type ContentId } from '../core/content/content-id.js'
import type { VerifiedManifest } from '../core/content/manifest.js'
import { pieceBytesLength, verifyPiece } from '../core/content/pieces.js'
import { SPREAD_DECLINE_REASON } from '../core/swarm/origin-spread.js'
import type { PeerAlternative } from '../core/messages/xfer-messages.js'
import { DownloadSession, type SessionEffect } from '../core/swarm/download-session.js'
import { createSwarmNode, type SwarmNode } from '../net/swarm-node.js'
import { ContentNotFoundError, fetchManifest } from '../net/manifest-protocol.js'
import { XferConnection } from '../net/xfer-client.js'
import type { ReceivedXferMessage } from '../net/xfer-codec.js'
import type { Bitfield } from '../core/swarm/bitfield.js'
import { PartialDownload } from './partial-download.js'
import { acquireFileLock, type LockOwner } from './file-lock.js'
import { assertOutputWritable, isCompleteCopy, outputError, resolveOutputPath } from './download-target.js'
import { fetchWebSeedManifest, isWebSeedAddress, WebSeedConnection } from './web-seed-source.js'
import { ArrayBufferGc } from './array-buffer-gc.js'
import { requestDepth } from '../core/swarm/request-depth.js'

export { IN_FLIGHT_BYTES_PER_SOURCE, IN_FLIGHT_BYTES_TOTAL } from '../core/swarm/request-depth.js'

/** One for the process: the memory it watches is the process's (array-buffer-gc.ts says why). */
const arrayBufferGc = new ArrayBufferGc()

/** The download could not finish: no source could deliver, with each source's reason. */
export class DownloadFailedError extends Error {
  override name = 'DownloadFailedError'
  readonly code = 'ERR_DOWNLOAD_FAILED'
}

/** Where to download from. */
export interface DownloadSource {
  /** A libp2p multiaddr, ideally ending in /p2p/PEER_ID; or a web seed's item URL, `http(s)://BASE/c/CONTENT_ID` (see web-seed-source.ts). */
  address: string | Multiaddr
  /** A publisher's origin seeder: spared when peers can serve (see DownloadSession). Default false. */
  isOrigin?: boolean
  /** Proximity rank, 0 (nearest) to < 2: nearer sources are asked first (see DownloadSession). Default 0. */
  preference?: number
  /** Every address known for the source, relayed ones included: a source behind a NAT is reached through them (src/net/piece-connection.ts). Default: `address` alone. */
  dialAddrs?: string[]
}

/** Progress after each verified piece. */
export interface DownloadProgress {
  contentId: ContentId
  name: string
  totalBytes: number
  verifiedBytes: number
  pieceCount: number
  verifiedPieces: number
  /** Pieces that were already on disk when the download started. */
  resumedPieces: number
  activeSources: number
}

/** A handle on a running download, for a streaming reader (see DownloadInit.onControl). */
export interface DownloadControl {
  /** Pieces verified and written to `partialPath` (a live view: do not modify). */
  verified: Bitfield
  /** The file that holds the verified pieces at their offsets until the download completes (then it is renamed to the output path). */
  partialPath: string
  /** Moves the session's priority range (a playhead window, pieces start..end exclusive) and sends requests for it now. */
  setPriorityRange: (startPiece: number, endPiece: number) => void
}

/** Options for downloadContent. */
export interface DownloadInit {
  signal?: AbortSignal
  /** A running node to use; default: a dial-only node created and stopped here. */
  node?: SwarmNode
  /** Requests in flight per source. Default: IN_FLIGHT_BYTES_PER_SOURCE / piece size, 2 to 64. */
  maxRequestsPerSource?: number
  /** Bytes of requests in flight per source, when maxRequestsPerSource is not given (a streaming download wants a shallow pipeline). Default IN_FLIGHT_BYTES_PER_SOURCE. */
  inFlightBytesPerSource?: number
  /** Unanswered request timeout, ms. Default 30 s. */
  requestTimeoutMs?: number
  /** Time a source may send nothing while it owes us pieces, ms. Default 60 s. */
  idleTimeoutMs?: number
  /** Dial, handshake and manifest timeout per source, ms. Default 15 s. */
  connectTimeoutMs?: number
  /** Called once the manifest verified. */
  onManifest?: (manifest: VerifiedManifest) => void
  /** Called after every verified piece. */
  onProgress?: (progress: DownloadProgress) => void
  /** Called when a source is dropped or banned, with why. */
  onSourceError?: (address: string, err: Error) => void
  /** Called once pieces are being fetched (not when the item was already complete on disk), with a handle to steer the session. */
  onControl?: (control: DownloadControl) => void
  /** Called when a piece verified and its bytes are in the partial file (readable from there). */
  onPieceVerified?: (index: number) => void
  /** Called once the on-disk partial download is open (before any piece is fetched): lets a peer serve it. */
  onPartialOpened?: (partial: PartialDownload) => void
  /** Called after each fetched piece is verified and written, with the source (its address) it came from. */
  onPieceStored?: (index: number, sourceAddress: string, lengthBytes: number) => void
  /** Uniform [0, 1) generator that breaks rarest-first ties (so peers fetch different pieces). Default: index order, which suits one seeder's disk. */
  random?: () => number
  /** This node's peer id: turns on the session's stripe rule among near sources (see DownloadSessionInit.stripeKey). Default: off. */
  stripeKey?: string
  /** Called once pieces are being fetched, with a function that connects one more source (e.g. found later by a provider finder) and one that drops a connected source by its address (its requests go back to the pool). */
  onSessionStarted?: (addSource: (source: DownloadSource) => void, dropSource: (address: string, reason: string) => void) => void
  /**
   * A source (a busy origin) named other holders in a choke or reject,
   * nearest to us first. Default: ignored. Which of them become sources is
   * the core's SourceChooser's rule, asked by the swarm peer's handler.
   */
  onAlternatives?: (alternatives: PeerAlternative[], fromSource: string) => void
  /** Called when a source's handshake succeeded, with what it said it is (`announcedOrigin`: a publisher's origin seeder, by its own handshake). */
  onSourceConnected?: (address: string, info: { announcedOrigin: boolean, connectionKind: ConnectionKind }) => void
  /** A source's stream ended before the download completed (it left, failed or was banned): its place may be filled again. */
  onSourceClosed?: (address: string) => void
  /** Replace a file already at the output path that is not this item. Default false: OutputExistsError. */
  overwrite?: boolean
  /** When another process downloads into the same output: wait for it (then resume or find the item done) instead of FileLockedError. Default false. */
  waitForLock?: boolean
  /** Called once when waitForLock waits for another process, with the lock's holder. */
  onLockWait?: (owner: LockOwner | undefined) => void
  /** Largest item accepted, bytes. Default DEFAULT_MAX_ITEM_SIZE_BYTES (1 TiB, download-target.ts). */
  maxItemSizeBytes?: number
  /** Further addresses to ask for the manifest when every source failed to give it (a fleet's next origins, added as sources only on failover). Default none. */
  manifestFallbacks?: Array<string | Multiaddr>
}

/** What a finished download did. */
export interface DownloadResult {
  manifest: VerifiedManifest
  /** Where the item is: the output path given, or the item's file name inside it when that was a directory. */
  outputPath: string
  /** Pieces fetched in this run (not counting resumed ones). */
  fetchedPieces: number
  resumedPieces: number
  elapsedMs: number
}

/**
 * Downloads `contentId` into `outputPath` (a file, or an existing directory
 * to save in under the manifest's file name) from `sources`. Resumes from
 * `outputPath.swarmcdn-partial(.state)` when present, holding its lock
 * while it runs. Throws InvalidContentIdError, DownloadFailedError (naming
 * each source's fault), OutputExistsError, OutputPathError,
 * FileLockedError, ItemTooLargeError, DiskSpaceError, or the abort
 * reason; on abort the partial state is saved for a resume.
 */
export async function downloadContent (contentIdText: string, outputPath: string, sources: DownloadSource[], init: DownloadInit = {}): Promise<DownloadResult> {
  const contentId = parseContentId(contentIdText)
  if (sources.length === 0) throw new DownloadFailedError('no sources given')
  const started = Date.now()
  const addrs = sources.map(s => targetOf(s.address))
  const node = init.node ?? await createSwarmNode()
  const connectTimeoutMs = init.connectTimeoutMs ?? 15_000
  const failures = new Map<string, string>()
  const noteFailure = (addr: string, err: Error): void => {
    if (!failures.has(addr)) failures.set(addr, describe(err))
    init.onSourceError?.(addr, err)
  }
  const failed = (what: string): DownloadFailedError =>
    new DownloadFailedError(`${what}: ${[...failures].map(([a, r]) => `${a}: ${r}`).join('; ')}`)

  try {
    // 1. The manifest, from the first source that gives a valid one.
    let manifest: VerifiedManifest | undefined
    for (const addr of [...addrs, ...(init.manifestFallbacks ?? []).map(a => typeof a === 'string' ? multiaddr(a) : a)]) {
      try {
        manifest = await fetchSourceManifest(node, addr, contentId, { signal: init.signal, timeoutMs: connectTimeoutMs, dialAddrs: sources[addrs.indexOf(addr)]?.dialAddrs })
        break
      } catch (err) {
        if (init.signal?.aborted === true) throw init.signal.reason
        noteFailure(addr.toString(), err as Error)
      }
    }
    if (manifest == null) {
      const allMissing = [...failures.values()].every(r => r.startsWith('does not have'))
      throw failed(allMissing ? `no source has ${contentId}` : `could not get the manifest of ${contentId}`)
    }
    init.onManifest?.(manifest)

    // 2. The on-disk side, resumed if possible, ours alone while we run.
    const target = await resolveOutputPath(outputPath, manifest)
    await assertOutputWritable(target, { overwrite: true })
    const lock = await acquireFileLock(PartialDownload.lockPath(target), {
      wait: init.waitForLock, signal: init.signal, onWait: init.onLockWait, what: `the download into ${target}`
    }).catch((err: unknown) => { throw outputError(err, target) })
    try {
      // Checked under the lock: a process we waited for may just have finished this very item.
      if (await isCompleteCopy(target, manifest)) {
        await lock.release()
        return { manifest, outputPath: target, fetchedPieces: 0, resumedPieces: manifest.pieceCount, elapsedMs: Date.now() - started }
      }
      await assertOutputWritable(target, { overwrite: init.overwrite, hint: 'it is not this item' })
    } catch (err) {
      await lock.release()
      throw err
    }
    const partial = await PartialDownload.open(target, manifest, { lock, maxItemSizeBytes: init.maxItemSizeBytes })
      .catch((err: unknown) => { throw outputError(err, target) })
    init.onPartialOpened?.(partial)
    const { perSource, total } = requestDepth(manifest.pieceSizeBytes, init)
    const session = new DownloadSession(manifest.pieceCount, {
      verified: partial.verified,
      maxRequestsPerSource: perSource,
      maxRequestsTotal: total,
      requestTimeoutMs: init.requestTimeoutMs,
      // A partial source is waited for as long as its stream may stay silent.
      partialSourceWaitMs: init.idleTimeoutMs,
      random: init.random,
      stripeKey: init.stripeKey
    })
    let fetchedPieces = 0
    try {
      if (!session.isComplete) {
        await runSession(node, manifest, session, partial, addrs, sources, perSource, init, noteFailure, failed, () => { fetchedPieces++ })
      }
    } catch (err) {
      // The first fault is the one to report; a close that fails too (a full disk) must not hide it.
      await partial.close().catch(() => {})
      throw outputError(err, target)
    }
    await partial.complete().catch((err: unknown) => { throw outputError(err, target) })
    return { manifest, outputPath: target, fetchedPieces, resumedPieces: partial.resumedPieces, elapsedMs: Date.now() - started }
  } finally {
    if (init.node == null) await node.stop()
  }
}

async function runSession (
  node: SwarmNode, manifest: VerifiedManifest, session: DownloadSession, partial: PartialDownload,
  addrs: SourceTarget[], sources: DownloadSource[], perSource: number, init: DownloadInit,
  noteFailure: (addr: string, err: Error) => void, failed: (what: string) => Error, onFetched: () => void
): Promise<void> {
  const local = new AbortController()
  const signal = init.signal == null ? local.signal : AbortSignal.any([init.signal, local.signal])
  const conns = new Map<string, SourceConnection>()
  const idleTimeoutMs = init.idleTimeoutMs ?? 60_000
  let active = 0
  let connecting = addrs.length
  let settle!: { resolve: () => void, reject: (err: unknown) => void }
  const finished = new Promise<void>((resolve, reject) => { settle = { resolve, reject } })
  finished.catch(() => {}) // awaited below unless setup already failed; never an unhandled rejection

  const apply = (effects: SessionEffect[]): void => {
    for (const e of effects) {
      const conn = conns.get(e.sourceId)
      if (conn == null) continue
      if (e.type === 'request') conn.request(e.index)
      else if (e.type === 'cancel') conn.cancel(e.index)
      else if (e.type === 'ban') conn.fail(new Error(e.reason))
    }
  }
  const pump = (): void => { apply(session.nextRequests(Date.now())) }
  // Whether to give up is the session's verdict; this shell reports the sources it is still connecting.
  const givesUp = (): boolean => !signal.aborted && session.givesUp(Date.now(), { connecting })
  const alternatives = init.onAlternatives ?? ((): void => {})
  init.onControl?.({
    verified: partial.verified,
    partialPath: PartialDownload.partialPath(partial.outputPath),
    setPriorityRange: (startPiece, endPiece) => { session.setPriorityRange(startPiece, endPiece); if (!signal.aborted) pump() }
  })
  const progress = (): void => {
    const s = session.stats()
    init.onProgress?.({
      contentId: manifest.contentId,
      name: manifest.name,
      totalBytes: manifest.lengthBytes,
      verifiedBytes: Math.min(manifest.lengthBytes, s.verifiedPieces * manifest.pieceSizeBytes - (partial.verified.get(manifest.pieceCount - 1) ? manifest.pieceCount * manifest.pieceSizeBytes - manifest.lengthBytes : 0)),
      pieceCount: manifest.pieceCount,
      verifiedPieces: s.verifiedPieces,
      resumedPieces: partial.resumedPieces,
      activeSources: active
    })
  }

  const serve = async (sourceId: string, conn: SourceConnection): Promise<void> => {
    let writing: Promise<void> = Promise.resolve()
    try {
      for await (const msg of conn.messages(signal, idleTimeoutMs)) {
        if (msg.type === 'piece') {
          if (!session.onPieceReceived(sourceId, msg.index)) continue
          // The piece stays the chunks it was received in: hashed and written without a copy.
          const chunks = [...msg.data]
          try {
            verifyPiece(manifest, msg.index, chunks)
          } catch (err) {
            apply(session.onPieceFailed(sourceId, msg.index, Date.now(), (err as Error).message))
            throw err
          }
          // One write in flight per source while the next piece is read and
          // verified: overlaps disk with network, bounds buffered pieces.
          await writing
          const index = msg.index
          const data = chunks
          writing = (async () => {
            await partial.writePiece(index, data)
            arrayBufferGc.check()
            onFetched()
            init.onPieceVerified?.(index)
            init.onPieceStored?.(index, sourceId, pieceBytesLength(data))
            apply(session.onPieceVerified(sourceId, index, Date.now()))
            progress()
            if (session.isComplete) settle.resolve()
          })()
          writing.catch(() => {}) // surfaced by the next await
          pump()
          continue
        }
        if ((msg.type === 'reject' || msg.type === 'choke') && msg.alternatives != null && msg.alternatives.length > 0) alternatives(msg.alternatives, sourceId)
        if (msg.type === 'reject') {
          // A busy origin spreading pieces still holds this one: back off and ask peers, don't forget it holds it.
          if (msg.reason === SPREAD_DECLINE_REASON) session.onRequestDeclined(sourceId, msg.index, Date.now())
          else session.onRequestRejected(sourceId, msg.index)
        } else if (msg.type === 'have') {
          session.have(sourceId, msg.index, Date.now())
        } else if (msg.type === 'choke') {
          // Slots taken, or an origin busy with a popular item: use the other sources until unchoked.
          session.choke(sourceId)
        } else if (msg.type === 'unchoke') {
          session.unchoke(sourceId)
        }
        pump()
      }
      await writing
      if (session.isComplete) return
      throw new Error('source closed the stream')
    } catch (err) {
      await writing.catch(e => { settle.reject(e) })
      if (signal.aborted || session.isComplete) return
      noteFailure(sourceId, err as Error)
      conn.fail(err as Error)
    } finally {
      if (!session.isBanned(sourceId)) session.removeSource(sourceId)
      conns.delete(sourceId)
      active--
      if (!session.isComplete) {
        init.onSourceClosed?.(sourceId)
        pump()
        if (givesUp()) settle.reject(failed(`download of ${manifest.contentId} failed, no source left`))
      }
    }
  }

  const abortListener = (): void => { settle.reject(init.signal?.reason ?? new Error('aborted')) }
  init.signal?.addEventListener('abort', abortListener, { once: true })
  const timer = setInterval(() => { apply(session.onRequestTimeout(Date.now())); pump() }, 1000)
  try {
    const connect = async (addr: SourceTarget, source: DownloadSource): Promise<void> => {
      const sourceId = addr.toString()
      try {
        const conn: SourceConnection = typeof addr === 'string'
          ? await WebSeedConnection.open(addr, manifest, { signal, connectTimeoutMs: init.connectTimeoutMs, maxRequests: perSource })
          : await XferConnection.open(node, addr, manifest, { signal, handshakeTimeoutMs: init.connectTimeoutMs, maxRequests: perSource, have: partial.verified, dialAddrs: source.dialAddrs })
        // An origin is spared while peers can serve, whether we were told so or it says so itself.
        if (!session.addSource(sourceId, conn.remoteBitfield, { isOrigin: (source.isOrigin ?? false) || conn.remoteIsOrigin, preference: source.preference, stripeKey: peerIdOfTarget(addr) })) { conn.fail(new Error('duplicate source')); return }
        conns.set(sourceId, conn)
        // A web seed is an HTTP connection we opened: direct.
        init.onSourceConnected?.(sourceId, { announcedOrigin: conn.remoteIsOrigin, connectionKind: conn instanceof XferConnection ? conn.connectionKind : 'direct' })
        active++
        void serve(sourceId, conn)
        pump()
      } catch (err) {
        if (!signal.aborted) noteFailure(sourceId, err as Error)
      } finally {
        connecting--
        // A source added later (a failover) that cannot connect either leaves nothing to wait for.
        if (givesUp()) settle.reject(failed(`could not download ${manifest.contentId}`))
      }
    }
    const addSource = (source: DownloadSource): void => {
      if (signal.aborted || session.isComplete) return
      let addr: SourceTarget
      try { addr = targetOf(source.address) } catch { return }
      connecting++
      void connect(addr, source)
    }
    const dropSource = (address: string, reason: string): void => { conns.get(address)?.fail(new Error(reason)) }
    init.onSessionStarted?.(addSource, dropSource)
    await Promise.all(addrs.map(async (addr, k) => { await connect(addr, sources[k]) }))
    // A failed source may have had a replacement added meanwhile (onSourceError): fail only when none is on its way.
    if (givesUp()) throw failed(`could not download ${manifest.contentId}`)
    if (init.signal?.aborted === true) throw init.signal.reason
    await finished
  } finally {
    clearInterval(timer)
    init.signal?.removeEventListener('abort', abortListener)
    local.abort()
    await Promise.allSettled([...conns.values()].map(async c => { await c.close() }))
  }
}

/** What the session drives a source through: an xfer stream or a web seed's range requests. */
type SourceConnection = Pick<XferConnection, 'remoteBitfield' | 'remoteIsOrigin' | 'request' | 'cancel' | 'fail' | 'close'> & {
  messages: (signal: AbortSignal, idleTimeoutMs: number) => AsyncGenerator<ReceivedXferMessage>
}

/** A source's address parsed once: a multiaddr, or a web seed URL (kept as text). */
type SourceTarget = Multiaddr | string

/** Fetches and verifies the manifest of `contentId` from one source: over libp2p (`node`) or from a web seed URL. */
export async function fetchSourceManifest (node: SwarmNode, address: string | Multiaddr, contentId: ContentId, init: { signal?: AbortSignal, timeoutMs?: number, dialAddrs?: readonly string[] } = {}): Promise<VerifiedManifest> {
  const target = targetOf(address)
  return typeof target === 'string' ? await fetchWebSeedManifest(target, contentId, init) : await fetchManifest(node, target, contentId, init)
}

function targetOf (address: string | Multiaddr): SourceTarget {
  return typeof address === 'string' ? (isWebSeedAddress(address) ? address : multiaddr(address)) : address
}

function peerIdOfTarget (target: SourceTarget): string | undefined {
  return typeof target === 'string' ? undefined : target.getComponents().findLast(c => c.name === 'p2p')?.value
}

function describe (err: Error): string {
  if (err instanceof ContentNotFoundError) return 'does not have this content'
  const e = err as Error & { code?: string }
  if (e.name === 'ContentIdMismatchError') return `sent a manifest that does not match the content id (${e.message})`
  if (e.name === 'ManifestSignatureError' || e.name === 'MalformedManifestError') return `sent a bad manifest (${e.message})`
  if (e.name === 'PieceHashMismatchError') return `sent a corrupt piece and was banned (${e.message})`
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out'
  if (e.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(e.message)) return 'connection refused'
  return e.message
}
