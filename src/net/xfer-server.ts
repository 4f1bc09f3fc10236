/**
 * The serving side of `/swarmcdn/xfer/1.0.0`.
 *
 * Rules: the requester speaks first with a handshake naming one item; we
 * answer with our handshake (our bitfield) or not-found and end. Requests
 * queue in arrival order up to MAX_QUEUED_REQUESTS (more are rejected, so
 * a greedy peer can't make us buffer unboundedly); a cancel removes a
 * queued request; pieces we don't hold are rejected. Pieces go out one at
 * a time, each write waiting for the stream to drain (backpressure).
 */
import type { Stream } from '@libp2p/interface'
import type { ContentProvider } from './content-provider.js'
import type { SwarmNode } from './swarm-node.js'
import type { XferMessage } from '../core/messages/xfer-messages.js'
import type { ContentId } from '../core/content/content-id.js'
import { Bitfield } from '../core/swarm/bitfield.js'
import { XFER_PROTOCOL } from './protocol-ids.js'
import { FramedStream, withTimeout } from './framed-stream.js'
import { decodeXferMessage, encodeXferMessage, encodePieceFrame, MalformedFrameError, MAX_CONTROL_FRAME_BYTES } from './xfer-codec.js'

/** Requests one stream may have queued at the server. */
export const MAX_QUEUED_REQUESTS = 64
/** Default time a stream may sit without a frame from the requester, ms. */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000
/** Default time one write may wait for the requester to read, ms. */
export const DEFAULT_WRITE_TIMEOUT_MS = 60_000

/** What the responder wants done after a message. */
export interface ResponderOutput {
  /** Messages to send now, before any piece. */
  replies: XferMessage[]
  /** True when the stream should end after the replies. */
  end: boolean
}

/** Message in, messages out: the per-stream state of serving one requester. */
export class XferResponder {
  private contentId: ContentId | undefined
  private held: Bitfield | undefined
  private readonly queue: number[] = []

  constructor (private readonly provider: ContentProvider) {}

  /** Handles one message from the requester. Throws MalformedFrameError for protocol violations. */
  onMessage (msg: XferMessage): ResponderOutput {
    if (this.contentId == null) {
      if (msg.type !== 'handshake') throw new MalformedFrameError(`expected a handshake first, got ${msg.type}`)
      const m = this.provider.has(msg.contentId) ? this.provider.manifest(msg.contentId) : undefined
      if (m == null) return { replies: [{ type: 'not-found', contentId: msg.contentId }], end: true }
      this.contentId = msg.contentId
      this.held = this.provider.bitfield?.(msg.contentId) ?? Bitfield.full(m.pieceCount)
      return { replies: [{ type: 'handshake', contentId: msg.contentId, bitfield: this.held.toBytes() }], end: false }
    }
    switch (msg.type) {
      case 'request':
        if (this.held?.get(msg.index) !== true) return { replies: [{ type: 'reject', index: msg.index, reason: 'piece not held' }], end: false }
        if (this.queue.length >= MAX_QUEUED_REQUESTS) return { replies: [{ type: 'reject', index: msg.index, reason: 'too many queued requests' }], end: false }
        this.queue.push(msg.index)
        return { replies: [], end: false }
      case 'cancel': {
        const at = this.queue.indexOf(msg.index)
        if (at >= 0) this.queue.splice(at, 1)
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
  /** Concurrent inbound xfer streams per connection. Default 32. */
  maxInboundStreams?: number
  /** Aborts every stream being served (node shutdown). */
  signal?: AbortSignal
}

/** Serves pieces from `provider` on `node`. */
export async function registerXferProtocol (node: SwarmNode, provider: ContentProvider, init: XferProtocolInit = {}): Promise<void> {
  await node.handle(XFER_PROTOCOL, async (stream: Stream) => {
    await serveXferStream(stream, new XferResponder(provider), init)
  }, { maxInboundStreams: init.maxInboundStreams ?? 32 })
}

/** The one function that moves xfer frames between a stream and a responder. */
export async function serveXferStream (stream: Stream, responder: XferResponder, init: XferProtocolInit = {}): Promise<void> {
  const idleMs = init.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS
  const writeMs = init.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS
  const framed = new FramedStream(stream, { maxFrameBytes: MAX_CONTROL_FRAME_BYTES })
  const outbox: XferMessage[] = []
  let readerDone = false
  let wake: (() => void) | undefined
  const poke = (): void => { const w = wake; wake = undefined; w?.() }

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

  const writer = (async () => {
    while (true) {
      let msg = outbox.shift()
      if (msg == null && responder.hasQueued) msg = await responder.nextPiece()
      if (msg != null) {
        // A piece goes out as [header, data]: its bytes are not copied into a frame buffer.
        const frame = msg.type === 'piece' ? encodePieceFrame(msg.index, msg.data) : encodeXferMessage(msg)
        await framed.write(frame, withTimeout(init.signal, writeMs))
        continue
      }
      if (readerDone) break
      await new Promise<void>(resolve => { wake = resolve })
    }
  })()

  try {
    await Promise.all([reader, writer])
    await framed.close(withTimeout(init.signal, writeMs))
  } catch (err) {
    stream.abort(err as Error)
    poke()
    await Promise.allSettled([reader, writer])
  }
}
