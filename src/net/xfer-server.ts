/**
 * The serving side of `/swarmcdn/xfer/1.0.0`.
 *
 * Rules: the requester speaks first with a handshake naming one item; we
 * answer with our handshake (our bitfield) or not-found and end. Requests
 * queue in arrival order up to MAX_QUEUED_REQUESTS (more are rejected, so
 * a greedy peer can't make us buffer unboundedly); a cancel removes a
 * queued request; pieces we don't hold are rejected. Pieces go out one at
 * a time, each write waiting for the stream to drain (backpressure).
 * With an upload gate (src/net/upload-gate.ts) a requester may be choked:
 * its queue is dropped, its requests are ignored until unchoke, and every
 * piece waits for the gate's rate limit, and the gate may decline a piece
 * (a busy origin's spread rule: reject with SPREAD_DECLINE_REASON). Every
 * choke and spread reject carries the ticket's `alternatives` when it has
 * any (a busy origin's "busy, try these peers"). A provider with `watch` (a
 * download in progress) makes us send `have` as pieces verify.
 *
 * Offenders: a frame that does not decode, breaks the protocol (a request
 * before the handshake, a second handshake) or is trickled past the frame
 * deadline resets the stream and counts against the requester in the
 * node's offender guard (net/offender-guard.ts); a banned requester's
 * streams are reset on arrival.
 *
 * Requesters that do not read (issue "hostile peers"): a piece write that
 * makes no progress (no window update from the requester) for
 * `stallTimeoutMs` resets the stream, which frees its slot and the piece
 * it held; the upload policy hears `stalled` (a gate chokes the peer's
 * other streams for a while) and it counts as an offense, so a peer that
 * keeps doing it is banned. Streams and queued requests are capped per
 * peer and per network (core/swarm/requester-quotas.ts), so the memory an
 * attacker holds is at most maxStreamsPerPeer pieces per identity and
 * maxStreamsPerNetwork pieces per /24, each for at most stallTimeoutMs.
 */
import type { Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import type { ContentProvider } from './content-provider.js'
import type { SwarmNode } from './swarm-node.js'
import type { PeerAlternative, XferMessage } from '../core/messages/xfer-messages.js'
import type { ContentId } from '../core/content/content-id.js'
import { Bitfield } from '../core/swarm/bitfield.js'
import { SPREAD_DECLINE_REASON } from '../core/swarm/origin-spread.js'
import { answerPieceRequest } from '../core/swarm/piece-request-answer.js'
import { XFER_PROTOCOL } from './protocol-ids.js'
import { FramedStream, isPeerFault, withTimeout } from './framed-stream.js'
import { offenderGuardOf, PeerBannedError } from './offender-guard.js'
import { RequesterQuotas, type RequesterQuotasInit } from '../core/swarm/requester-quotas.js'
import { ipOfMultiaddr } from '../core/proximity/public-address.js'
import { formatIpAddress, prefixRange } from '../core/proximity/ip-address.js'
import { decodeXferMessage, encodeXferMessage, encodePieceFrame, MalformedFrameError, MAX_CONTROL_FRAME_BYTES } from './xfer-codec.js'

/** Requests one stream may have queued at the server. */
export const MAX_QUEUED_REQUESTS = 64
/** Default time a stream may sit without a frame from the requester, ms. */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000
/** Default time one write may wait for the requester to read, ms. */
export const DEFAULT_WRITE_TIMEOUT_MS = 60_000
/** Default time a piece write may make no progress (the requester reads nothing) before the stream is reset and the requester penalized, ms. */
export const DEFAULT_STALL_TIMEOUT_MS = 5_000

/** A requester stopped reading what it asked for. */
export class StalledRequesterError extends Error {
  override name = 'StalledRequesterError'
  readonly code = 'ERR_STALLED_REQUESTER'
  /** Asking and not reading is the requester's doing: counts against it. */
  readonly peerFault = true
}

/** A requester is over its stream quota (per peer or per network). */
export class TooManyStreamsError extends Error {
  override name = 'TooManyStreamsError'
  readonly code = 'ERR_TOO_MANY_STREAMS'
}

/** The network a remote multiaddr is in, for per-network quotas: its IPv4 /24 or IPv6 /48 (else the address itself). */
export function networkOf (remoteAddr: string): string {
  const ip = ipOfMultiaddr(remoteAddr)
  if (ip == null) return remoteAddr
  const bits = ip.family === 4 ? 24 : 48
  return `${formatIpAddress(prefixRange(ip, bits).first)}/${bits}`
}

/** What the responder wants done after a message. */
export interface ResponderOutput {
  /** Messages to send now, before any piece. */
  replies: XferMessage[]
  /** True when the stream should end after the replies. */
  end: boolean
}

/** One requester's standing with an upload policy (choking and rate limit). */
export interface UploadTicket {
  /** True while the requester must not be served. */
  readonly choked: boolean
  /** Waits until `bytes` may be sent under the upload rate limit. */
  pace: (bytes: number, signal?: AbortSignal) => Promise<void>
  /** The requester left: frees its slot. */
  release: () => void
  /** Asked before a request is queued: false declines piece `index` for now (a busy origin's spread rule). Default: serve. */
  admitPiece?: (index: number) => boolean
  /** Other holders to name in a choke or spread reject, nearest to the requester first (a busy origin's "try these peers"). Default: none. */
  alternatives?: () => PeerAlternative[]
  /** The requester stopped reading (its stream is being reset): a policy chokes the peer's other streams for a while. Default: nothing. */
  stalled?: () => void
  /** Requests `admitPiece` passed were dropped unserved (choke, cancel, stream end, or the piece whose write stalled): a spread rule counts them back. Default: nothing. */
  unqueued?: (indices: readonly number[]) => void
  /** Piece `index` was written whole to the requester's stream (handed to the muxer: not proof it reads). Default: nothing. */
  sent?: (index: number) => void
  /** The requester sent a request (served or not: while choked it is its "interested"; after a piece was sent, it shows it reads). Default: nothing. */
  requested?: () => void
}

/** A requester's share of queued requests (per peer and network, core/swarm/requester-quotas.ts). */
export interface QueueQuota {
  /** Takes one queued request; false when over the quota. */
  take: () => boolean
  /** Gives back `n` queued requests. */
  give: (n: number) => void
}

/** Who a stream's requester is, for an upload policy. */
export interface RequesterInfo {
  contentId: ContentId
  /** Remote peer id. */
  peerId: string
  /** Remote multiaddr of the connection. */
  remoteAddr: string
  /** Pieces of the item (for per-piece policies). */
  pieceCount?: number
}

/** An upload policy: admits each requester and tells it (through `push`) when it is choked or unchoked. */
export interface UploadGate {
  /** Registers a requester; `push` sends it choke/unchoke later. */
  admit: (who: RequesterInfo, push: (msg: XferMessage) => void) => UploadTicket
}

/** Message in, messages out: the per-stream state of serving one requester. */
export class XferResponder {
  private contentId: ContentId | undefined
  private held: Bitfield | undefined
  private readonly queue: number[] = []
  private sink: ((msg: XferMessage) => void) | undefined
  private ticket: UploadTicket | undefined
  private unwatch: (() => void) | undefined

  constructor (private readonly provider: ContentProvider, private readonly requester?: { peerId: string, remoteAddr: string, gate?: UploadGate, quota?: QueueQuota, origin?: boolean }) {}

  /** Where messages that arise outside onMessage (have, choke, unchoke) go: the stream's outbox. */
  setSink (push: (msg: XferMessage) => void): void {
    this.sink = push
  }

  /** Waits for the upload rate limit before a piece of `bytes` goes out. */
  async pace (bytes: number, signal?: AbortSignal): Promise<void> {
    await this.ticket?.pace(bytes, signal)
  }

  /** The requester stopped reading, with piece `index` half written (if any): tell the upload policy (before close). */
  stalled (index?: number): void {
    if (index !== undefined) this.ticket?.unqueued?.([index])
    this.ticket?.stalled?.()
  }

  /** Piece `index` was written whole. */
  sent (index: number): void {
    this.ticket?.sent?.(index)
  }

  /** The stream ended: leave the upload policy and stop watching for haves. */
  close (): void {
    this.dropQueue()
    this.ticket?.release()
    this.ticket = undefined
    this.unwatch?.()
    this.unwatch = undefined
  }

  private dropQueue (): void {
    if (this.queue.length === 0) return
    this.requester?.quota?.give(this.queue.length)
    this.ticket?.unqueued?.(this.queue)
    this.queue.length = 0
  }

  private push (msg: XferMessage): void {
    if (msg.type === 'choke') {
      this.dropQueue()
      msg = this.withAlternatives(msg)
    }
    this.sink?.(msg)
  }

  /** `msg` naming the ticket's alternatives, when it has any. */
  private withAlternatives<M extends XferMessage & { alternatives?: PeerAlternative[] }> (msg: M): M {
    const alternatives = this.ticket?.alternatives?.() ?? []
    return alternatives.length > 0 ? { ...msg, alternatives } : msg
  }

  /** Handles one message from the requester. Throws MalformedFrameError for protocol violations. */
  onMessage (msg: XferMessage): ResponderOutput {
    if (this.contentId == null) {
      if (msg.type !== 'handshake') throw new MalformedFrameError(`expected a handshake first, got ${msg.type}`)
      const m = this.provider.has(msg.contentId) ? this.provider.manifest(msg.contentId) : undefined
      if (m == null) return { replies: [{ type: 'not-found', contentId: msg.contentId }], end: true }
      this.contentId = msg.contentId
      this.held = (this.provider.bitfield?.(msg.contentId) ?? Bitfield.full(m.pieceCount)).clone()
      const held = this.held
      this.unwatch = this.provider.watch?.(msg.contentId, index => { if (held.set(index)) this.push({ type: 'have', index }) })
      const replies: XferMessage[] = [{ type: 'handshake', contentId: msg.contentId, bitfield: held.toBytes(), ...(this.requester?.origin === true ? { origin: true } : {}) }]
      if (this.requester?.gate != null) {
        this.ticket = this.requester.gate.admit({ contentId: msg.contentId, peerId: this.requester.peerId, remoteAddr: this.requester.remoteAddr, pieceCount: m.pieceCount }, m => { this.push(m) })
        if (this.ticket.choked) replies.push(this.withAlternatives({ type: 'choke' as const }))
      }
      return { replies, end: false }
    }
    if (msg.type === 'request') this.ticket?.requested?.()
    switch (msg.type) {
      case 'request': {
        const { index } = msg
        const ticket = this.ticket
        const quota = this.requester?.quota
        const answer = answerPieceRequest({
          choked: ticket?.choked === true,
          held: this.held?.get(index) === true,
          queueFull: this.queue.length >= MAX_QUEUED_REQUESTS,
          admitPiece: ticket?.admitPiece == null ? undefined : () => ticket.admitPiece?.(index) !== false,
          takeQuota: quota == null ? undefined : () => quota.take()
        })
        switch (answer) {
          // BitTorrent drops requests that cross our choke on the wire; the requester dropped them too when the choke arrived.
          case 'choked': return { replies: [], end: false }
          case 'not-held': return { replies: [{ type: 'reject', index, reason: 'piece not held' }], end: false }
          case 'queue-full': return { replies: [{ type: 'reject', index, reason: 'too many queued requests' }], end: false }
          case 'spread-declined': return { replies: [this.withAlternatives({ type: 'reject' as const, index, reason: SPREAD_DECLINE_REASON })], end: false }
          case 'over-quota': return { replies: [{ type: 'reject', index, reason: 'too many queued requests from your peer or network' }], end: false }
          case 'serve': this.queue.push(index); return { replies: [], end: false }
        }
      }
      case 'cancel': {
        const at = this.queue.indexOf(msg.index)
        if (at >= 0) { this.queue.splice(at, 1); this.requester?.quota?.give(1); this.ticket?.unqueued?.([msg.index]) }
        return { replies: [], end: false }
      }
      case 'handshake': throw new MalformedFrameError('second handshake on one stream')
      default:
        // have/choke/unchoke from a pure downloader carry nothing we act on yet.
        return { replies: [], end: false }
    }
  }

  /** True when a request is waiting to be served. */
  get hasQueued (): boolean {
    return this.queue.length > 0
  }

  /** Serves the oldest queued request: the piece, or a reject if it can't be read. */
  async nextPiece (): Promise<XferMessage | undefined> {
    const index = this.queue.shift()
    if (index === undefined || this.contentId == null) return undefined
    this.requester?.quota?.give(1)
    try {
      return { type: 'piece', index, data: await this.provider.readPiece(this.contentId, index) }
    } catch (err) {
      return { type: 'reject', index, reason: `read failed: ${(err as Error).message}` }
    }
  }
}

/** Options for registerXferProtocol. */
export interface XferProtocolInit {
  /** Time a stream may sit without a frame from the requester, ms. Default 120 s. */
  idleTimeoutMs?: number
  /** Time one write may wait for the requester to read, ms. Default 60 s. */
  writeTimeoutMs?: number
  /** Time a piece write may make no progress before the stream is reset and the requester penalized, ms. Default DEFAULT_STALL_TIMEOUT_MS (5 s). */
  stallTimeoutMs?: number
  /** Stream and queued-request caps per peer and per network (see core/swarm/requester-quotas.ts for the defaults: 8 and 32 streams, 256 and 1024 requests). */
  quotas?: RequesterQuotasInit
  /** Concurrent inbound xfer streams per connection. Default 32. */
  maxInboundStreams?: number
  /** Time a request frame may take to arrive whole after its first byte, ms. Default DEFAULT_FRAME_TIMEOUT_MS (10 s). */
  frameTimeoutMs?: number
  /** Aborts every stream being served (node shutdown). */
  signal?: AbortSignal
  /** Upload policy (slots, rate limit, busy); default: serve every requester at full speed. */
  gate?: UploadGate
  /** This node is a publisher's origin seeder: its handshake says so (field 8), so a client that dialled it directly knows what it is. Default false. */
  origin?: boolean
}

/** The limits of registerXferProtocol a node's owner sets (the rest is wiring). */
export type XferServingLimits = Pick<XferProtocolInit, 'idleTimeoutMs' | 'writeTimeoutMs' | 'frameTimeoutMs' | 'maxInboundStreams' | 'stallTimeoutMs' | 'quotas'>

/** Serves pieces from `provider` on `node`. */
export async function registerXferProtocol (node: SwarmNode, provider: ContentProvider, init: XferProtocolInit = {}): Promise<void> {
  const guard = offenderGuardOf(node)
  const quotas = new RequesterQuotas(init.quotas)
  await node.handle(XFER_PROTOCOL, async (stream: Stream, connection) => {
    const peerId = connection.remotePeer.toString()
    if (guard.refuses(peerId)) { stream.abort(new PeerBannedError('peer is banned for repeated protocol violations')); return }
    const remoteAddr = connection.remoteAddr.toString()
    const network = networkOf(remoteAddr)
    if (!quotas.openStream(peerId, network)) { stream.abort(new TooManyStreamsError(`too many xfer streams from ${peerId} or its network ${network}`)); return }
    try {
      const quota: QueueQuota = { take: () => quotas.queueRequest(peerId, network), give: n => { quotas.unqueueRequests(peerId, network, n) } }
      await serveXferStream(stream, new XferResponder(provider, { peerId, remoteAddr, gate: init.gate, quota, origin: init.origin }), init, reason => { guard.offense(peerId, 'xfer', reason) })
    } finally {
      quotas.closeStream(peerId, network)
    }
  }, { maxInboundStreams: init.maxInboundStreams ?? 32 })
}

/** The one function that moves xfer frames between a stream and a responder; `onOffense` hears what the requester got wrong. */
export async function serveXferStream (stream: Stream, responder: XferResponder, init: XferProtocolInit = {}, onOffense?: (reason: string) => void): Promise<void> {
  const idleMs = init.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS
  const writeMs = init.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS
  const stallMs = init.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS
  const stall = new AbortController()
  /** Writes `frame`; every window update from the requester (a 'drain') is progress and restarts the stall clock. */
  const write = async (frame: Uint8Array | Uint8ArrayList): Promise<void> => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const arm = (): void => {
      clearTimeout(timer)
      timer = setTimeout(() => { stall.abort(new StalledRequesterError(`requester read nothing for ${stallMs} ms`)) }, stallMs)
    }
    stream.addEventListener('drain', arm)
    arm()
    try {
      await framed.write(frame, AbortSignal.any([withTimeout(init.signal, writeMs), stall.signal]))
    } finally {
      clearTimeout(timer)
      stream.removeEventListener('drain', arm)
    }
  }
  const framed = new FramedStream(stream, { maxFrameBytes: MAX_CONTROL_FRAME_BYTES, frameTimeoutMs: init.frameTimeoutMs })
  const outbox: XferMessage[] = []
  let readerDone = false
  let wake: (() => void) | undefined
  const poke = (): void => { const w = wake; wake = undefined; w?.() }
  responder.setSink(msg => { outbox.push(msg); poke() })

  const reader = (async () => {
    try {
      while (true) {
        const frame = await framed.read(withTimeout(init.signal, idleMs))
        if (frame == null) break
        const out = responder.onMessage(decodeXferMessage(frame))
        outbox.push(...out.replies)
        poke()
        if (out.end) break
      }
    } finally {
      readerDone = true
      poke()
    }
  })()

  /** The piece being written, if any: a stall gives it back to the upload policy. */
  let writing: number | undefined
  const writer = (async () => {
    while (true) {
      let msg = outbox.shift()
      if (msg == null && responder.hasQueued) msg = await responder.nextPiece()
      if (msg != null) {
        if (msg.type === 'piece') await responder.pace(msg.data.length, init.signal)
        // A piece goes out as [header, data]: its bytes are not copied into a frame buffer.
        const frame = msg.type === 'piece' ? encodePieceFrame(msg.index, msg.data) : encodeXferMessage(msg)
        writing = msg.type === 'piece' ? msg.index : undefined
        await write(frame)
        if (writing !== undefined) responder.sent(writing)
        writing = undefined
        continue
      }
      if (readerDone) break
      await new Promise<void>(resolve => { wake = resolve })
    }
  })()

  try {
    await Promise.all([reader, writer])
    responder.close()
    await framed.close(withTimeout(init.signal, writeMs))
  } catch (caught) {
    // A write aborted by the stall clock rejects with the signal's reason; say so whatever the error's wrapping.
    const err = stall.signal.aborted ? stall.signal.reason as Error : caught
    if (stall.signal.aborted) responder.stalled(writing)
    responder.close()
    if (isPeerFault(err)) onOffense?.((err as Error).message)
    stream.abort(err as Error)
    poke()
    await Promise.allSettled([reader, writer])
  } finally {
    responder.close()
  }
}
