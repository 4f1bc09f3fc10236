/**
 * The requesting side of `/swarmcdn/xfer/1.0.0` for one source: opens the
 * stream, exchanges handshakes, sends the session's request and cancel
 * effects, and yields what the source sends back. Piece data is checked
 * for shape here (index in range, length right); its hash is checked by
 * the caller before anything is written.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId, Stream } from '@libp2p/interface'
import type { SwarmNode } from './swarm-node.js'
import type { XferMessage } from '../core/messages/xfer-messages.js'
import type { VerifiedManifest } from '../core/content/manifest.js'
import { pieceLengthAt } from '../core/content/pieces.js'
import { Bitfield } from '../core/swarm/bitfield.js'
import { XFER_PROTOCOL } from './protocol-ids.js'
import { connectionKindOf, openPieceConnection, type ConnectionKind } from './piece-connection.js'
import { FramedStream, FrameError, withTimeout } from './framed-stream.js'
import { ContentNotFoundError } from './manifest-protocol.js'
import { decodeXferFrame, decodeXferMessage, encodeXferMessage, MalformedFrameError, XFER_FRAME_OVERHEAD_BYTES, type ReceivedXferMessage } from './xfer-codec.js'
import type { Uint8ArrayList } from 'uint8arraylist'

/** Default time for dial plus handshake, ms. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 15_000
/** Default time one control write may wait, ms. */
const CONTROL_WRITE_TIMEOUT_MS = 30_000

/** Time a piece frame may take to arrive whole after its first byte, ms (1 MiB at 17 KiB/s). */
export const PIECE_FRAME_TIMEOUT_MS = 60_000

/** Options for XferConnection.open. */
export interface XferConnectionInit {
  signal?: AbortSignal
  /** Dial plus handshake, ms. Default 15 s. */
  handshakeTimeoutMs?: number
  /** Pieces we may have requested at once from this source: sizes the read buffer. Default 8. */
  maxRequests?: number
  /** Our verified pieces, sent in our handshake. Default: none. */
  have?: Bitfield
  /** Every address known for the source, relayed ones included (piece-connection.ts). Default: the target alone. */
  dialAddrs?: readonly string[]
}

/** One xfer stream to one source for one item. */
export class XferConnection {
  private writeChain: Promise<void> = Promise.resolve()
  private failed: Error | undefined

  private constructor (
    private readonly framed: FramedStream,
    private readonly manifest: VerifiedManifest,
    /** The pieces the source said it holds. */
    readonly remoteBitfield: Bitfield,
    /** The source's peer id, as a string. */
    readonly remotePeer: string,
    /** The source said in its handshake that it is a publisher's origin seeder (older sources never say so). */
    readonly remoteIsOrigin: boolean,
    /** How the connection was made: we dialled the source, the source dialled us (a reverse connection), or through a circuit relay (only when the relay lets pieces through: piece-connection.ts). */
    readonly connectionKind: ConnectionKind
  ) {}

  /** Dials `target`, handshakes for `manifest`'s item; throws ContentNotFoundError if the source lacks it. */
  static async open (node: SwarmNode, target: Multiaddr | PeerId, manifest: VerifiedManifest, init: XferConnectionInit = {}): Promise<XferConnection> {
    const signal = withTimeout(init.signal, init.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS)
    const conn = await openPieceConnection(node, target, { signal, dialAddrs: init.dialAddrs })
    const stream: Stream = await conn.newStream(XFER_PROTOCOL, { signal })
    const bitfieldBytes = Math.ceil(manifest.pieceCount / 8)
    const maxFrameBytes = Math.max(manifest.pieceSizeBytes, bitfieldBytes) + XFER_FRAME_OVERHEAD_BYTES
    // Everything we asked for may arrive before we read it: size the buffer for that, and no more.
    // A piece frame is large and a slow source is not an attacker: the frame deadline is the piece's, not a control frame's.
    const framed = new FramedStream(stream, { maxFrameBytes, maxBufferedBytes: ((init.maxRequests ?? 8) + 2) * maxFrameBytes, frameTimeoutMs: PIECE_FRAME_TIMEOUT_MS })
    try {
      const have = init.have ?? new Bitfield(manifest.pieceCount)
      await framed.write(encodeXferMessage({ type: 'handshake', contentId: manifest.contentId, bitfield: have.toBytes() }), signal)
      const frame = await framed.read(signal)
      if (frame == null) throw new FrameError('source closed the stream without a handshake')
      const reply = decodeXferMessage(frame)
      if (reply.type === 'not-found') throw new ContentNotFoundError(`source does not have ${manifest.contentId}`)
      if (reply.type !== 'handshake' || reply.contentId !== manifest.contentId) throw new MalformedFrameError(`expected a handshake for ${manifest.contentId}, got ${reply.type}`)
      let remote: Bitfield
      try {
        remote = Bitfield.fromBytes(reply.bitfield, manifest.pieceCount)
      } catch (err) {
        throw new MalformedFrameError((err as Error).message)
      }
      return new XferConnection(framed, manifest, remote, conn.remotePeer.toString(), reply.origin === true, connectionKindOf(conn))
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }

  /** Asks for piece `index` (queued behind earlier control frames; never blocks the caller). */
  request (index: number): void {
    this.send({ type: 'request', index })
  }

  /** Withdraws a request. */
  cancel (index: number): void {
    this.send({ type: 'cancel', index })
  }

  private send (msg: XferMessage): void {
    const bytes = encodeXferMessage(msg)
    this.writeChain = this.writeChain.then(async () => {
      if (this.failed != null) return
      try {
        await this.framed.write(bytes, AbortSignal.timeout(CONTROL_WRITE_TIMEOUT_MS))
      } catch (err) {
        this.fail(err as Error)
      }
    })
  }

  /**
   * What the source sends, until it closes the stream (then returns) or
   * breaks the protocol (then throws MalformedFrameError/FrameError and the
   * stream is reset). Each read waits at most `idleTimeoutMs`. A piece's
   * data is the chunk list it arrived in, not copied into one buffer.
   */
  async * messages (signal: AbortSignal, idleTimeoutMs: number): AsyncGenerator<ReceivedXferMessage> {
    while (true) {
      if (this.failed != null) throw this.failed
      let frame: Uint8ArrayList | null
      try {
        frame = await this.framed.readList(withTimeout(signal, idleTimeoutMs))
      } catch (err) {
        if (this.failed != null) throw this.failed
        if (signal.aborted) throw err
        if ((err as Error).name === 'TimeoutError') {
          const e = new FrameError(`source sent nothing for ${idleTimeoutMs} ms`)
          this.fail(e)
          throw e
        }
        throw err
      }
      if (frame == null) return
      let msg: ReceivedXferMessage
      try {
        msg = decodeXferFrame(frame)
        this.check(msg)
      } catch (err) {
        this.fail(err as Error)
        throw err
      }
      yield msg
    }
  }

  private check (msg: ReceivedXferMessage): void {
    if (msg.type === 'handshake' || msg.type === 'not-found') throw new MalformedFrameError(`unexpected ${msg.type} after the handshake`)
    if ('index' in msg && (msg.index >= this.manifest.pieceCount)) throw new MalformedFrameError(`piece index ${msg.index} out of range`)
    if (msg.type === 'piece') {
      const expected = pieceLengthAt(msg.index, this.manifest.lengthBytes, this.manifest.pieceSizeBytes)
      if (msg.data.byteLength !== expected) throw new MalformedFrameError(`piece ${msg.index} is ${msg.data.byteLength} bytes, expected ${expected}`)
    }
  }

  /** Resets the stream with `err`. */
  fail (err: Error): void {
    if (this.failed == null) this.failed = err
    this.framed.abort(err)
  }

  /** Ends the stream politely (our side), without waiting long. */
  async close (): Promise<void> {
    await this.writeChain
    await this.framed.close(AbortSignal.timeout(2_000))
    this.framed.abort(new Error('download finished'))
  }
}
