/**
 * The one place bytes meet streams: varint length-prefixed frames with a
 * hard per-frame size limit, every read and write bounded by an
 * AbortSignal and a timeout. A frame over the limit, a truncated one, or
 * one that does not arrive whole within `frameTimeoutMs` of its first byte
 * becomes a FrameError and the stream is reset (aborted), so a misbehaving
 * peer costs us at most one frame's worth of buffer for a bounded time.
 *
 * Why a frame deadline on top of the caller's idle timeout: a peer that
 * trickles one byte a second never looks idle, so without it a single
 * frame could hold a stream (and its handler slot) for as long as the
 * idle timeout allows, and a new byte restarts nothing. The idle signal
 * covers the wait for a frame's first byte; the frame deadline covers
 * the rest.
 */
import { byteStream, type ByteStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'

/** Default time a frame may take to arrive whole after its first byte, ms. */
export const DEFAULT_FRAME_TIMEOUT_MS = 10_000

/** A frame over the size limit, a truncated frame, or a stream that ended or timed out mid-exchange. */
export class FrameError extends Error {
  override name = 'FrameError'
  readonly code = 'ERR_FRAME'
  /** True when the remote peer did something wrong (not a stream failing underneath it). */
  readonly peerFault: boolean

  constructor (message: string, options: { peerFault?: boolean, cause?: unknown } = {}) {
    super(message, options.cause != null ? { cause: options.cause } : undefined)
    this.peerFault = options.peerFault ?? true
  }
}

/** True for an error that is the remote peer's fault: a FrameError it caused, or a protocol violation (`MalformedFrameError`, `DhtFrameError`, ...: any error with `peerFault: true`). */
export function isPeerFault (err: unknown): boolean {
  return (err as { peerFault?: unknown } | undefined)?.peerFault === true
}

/** Options for a FramedStream. */
export interface FramedStreamInit {
  /** Largest frame accepted from the remote, in bytes. Required in spirit; default 64 KiB. */
  maxFrameBytes?: number
  /** Bytes the remote may have sent ahead of our reads before the stream is reset. Default 2 x maxFrameBytes. */
  maxBufferedBytes?: number
  /** Time a frame may take to arrive whole after its first byte, ms. Default DEFAULT_FRAME_TIMEOUT_MS (10 s). */
  frameTimeoutMs?: number
}

/** Length-prefixed frames over a libp2p stream, with limits. */
export class FramedStream {
  private readonly bytes: ByteStream<Stream>
  readonly maxFrameBytes: number
  readonly frameTimeoutMs: number
  private readonly maxLengthBytes: number

  /** Wraps `stream`; from now on read it only through this object. */
  constructor (readonly stream: Stream, init: FramedStreamInit = {}) {
    this.maxFrameBytes = init.maxFrameBytes ?? 64 * 1024
    this.frameTimeoutMs = init.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS
    if (!(this.frameTimeoutMs > 0)) throw new RangeError(`frameTimeoutMs must be positive, got ${this.frameTimeoutMs}`)
    this.maxLengthBytes = varintLength(this.maxFrameBytes)
    this.bytes = byteStream(stream, { maxBufferSize: Math.max(init.maxBufferedBytes ?? 0, 2 * this.maxFrameBytes + 16) })
  }

  /**
   * The next frame, or null when the remote closed its side cleanly
   * between frames. Throws FrameError (and resets the stream) for an
   * oversized, truncated or too slow frame; aborts with the signal while
   * waiting for a frame's first byte.
   */
  async read (signal: AbortSignal): Promise<Uint8Array | null> {
    const list = await this.readList(signal)
    return list == null ? null : list.subarray()
  }

  /**
   * Like read, but the frame stays the chunks it arrived in (no copy into
   * one buffer): for piece frames, hashed and written chunk by chunk.
   */
  async readList (signal: AbortSignal): Promise<Uint8ArrayList | null> {
    let first: Uint8ArrayList | null
    try {
      first = await this.bytes.read({ bytes: 1, signal })
    } catch (err) {
      if (signal.aborted) throw err
      const e = err as Error
      // A close between frames is EOF after 0 of the 1 byte wanted: a clean end, not a broken frame.
      if (e.name === 'UnexpectedEOFError' && / 0\/1 bytes/.test(e.message)) return null
      throw this.fail(new FrameError(frameErrorMessage(e, this.maxFrameBytes), { peerFault: isRemoteError(e), cause: e }))
    }
    if (first == null) return null
    const deadline = AbortSignal.timeout(this.frameTimeoutMs)
    const frameSignal = AbortSignal.any([signal, deadline])
    try {
      let length = 0
      let factor = 1
      let byte = first.get(0)
      for (let n = 1; ; n++) {
        length += (byte & 0x7f) * factor
        if ((byte & 0x80) === 0) break
        if (n >= this.maxLengthBytes) throw new FrameError(`peer sent a frame over the ${this.maxFrameBytes}-byte limit (length prefix too long)`)
        factor *= 128
        const next = await this.bytes.read({ bytes: 1, signal: frameSignal })
        if (next == null) throw new FrameError('peer closed the stream in the middle of a frame')
        byte = next.get(0)
      }
      if (length > this.maxFrameBytes) throw new FrameError(`peer sent a frame over the ${this.maxFrameBytes}-byte limit`)
      if (length === 0) return new Uint8ArrayList()
      const body = await this.bytes.read({ bytes: length, signal: frameSignal })
      if (body == null) throw new FrameError('peer closed the stream in the middle of a frame')
      return body
    } catch (err) {
      if (err instanceof FrameError) throw this.fail(err)
      if (signal.aborted) throw err
      const e = err as Error
      if (deadline.aborted) throw this.fail(new FrameError(`peer took more than ${this.frameTimeoutMs} ms to send one frame`))
      throw this.fail(new FrameError(frameErrorMessage(e, this.maxFrameBytes), { peerFault: isRemoteError(e), cause: e }))
    }
  }

  /** Sends one frame, waiting for the stream to drain when its buffer is full (backpressure). */
  async write (frame: Uint8Array | Uint8ArrayList, signal: AbortSignal): Promise<void> {
    await this.bytes.write(new Uint8ArrayList(encodeVarint(frame.byteLength), frame), { signal })
  }

  /** Closes our writing side, waiting for queued bytes to go out. */
  async close (signal: AbortSignal): Promise<void> {
    try {
      await this.stream.close({ signal })
    } catch (err) {
      this.stream.abort(err as Error)
    }
  }

  /** Resets the stream with `err`. */
  abort (err: Error): void {
    this.stream.abort(err)
  }

  private fail (err: FrameError): FrameError {
    this.stream.abort(err)
    return err
  }
}

/** Errors from below the framing that still mean the remote misbehaved (it closed mid-frame, or sent more than we asked for). */
function isRemoteError (e: Error): boolean {
  return e.name === 'UnexpectedEOFError' || e.name === 'StreamBufferError'
}

function encodeVarint (n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return Uint8Array.from(out)
}

function varintLength (n: number): number {
  return encodeVarint(n).length
}

function frameErrorMessage (e: Error & { code?: string }, max: number): string {
  switch (e.name) {
    case 'InvalidDataLengthError': return `peer sent a frame over the ${max}-byte limit`
    case 'InvalidDataLengthLengthError': return `peer sent a frame over the ${max}-byte limit (length prefix too long)`
    case 'InvalidMessageLengthError': return 'peer sent a malformed frame length'
    case 'UnexpectedEOFError': return 'peer closed the stream in the middle of a frame'
    case 'StreamBufferError': return 'peer sent more data than was asked for'
    default: return `stream failed: ${e.message}`
  }
}

/** An AbortSignal that fires on `signal` or after `timeoutMs`. */
export function withTimeout (signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const t = AbortSignal.timeout(timeoutMs)
  return signal == null ? t : AbortSignal.any([signal, t])
}
