/**
 * The one place bytes meet streams: varint length-prefixed frames (lpStream
 * from @libp2p/utils) with a hard per-frame size limit, every read and
 * write bounded by an AbortSignal and a timeout. A frame over the limit or
 * a truncated one becomes a FrameError and the stream is reset (aborted),
 * so a misbehaving peer costs us at most one frame's worth of buffer.
 */
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'

/** A frame over the size limit, a truncated frame, or a stream that ended or timed out mid-exchange. */
export class FrameError extends Error {
  override name = 'FrameError'
  readonly code = 'ERR_FRAME'
}

/** Options for a FramedStream. */
export interface FramedStreamInit {
  /** Largest frame accepted from the remote, in bytes. Required in spirit; default 64 KiB. */
  maxFrameBytes?: number
  /** Bytes the remote may have sent ahead of our reads before the stream is reset. Default 2 x maxFrameBytes. */
  maxBufferedBytes?: number
}

/** Length-prefixed frames over a libp2p stream, with limits. */
export class FramedStream {
  private readonly lp: LengthPrefixedStream<Stream>
  readonly maxFrameBytes: number

  /** Wraps `stream`; from now on read it only through this object. */
  constructor (readonly stream: Stream, init: FramedStreamInit = {}) {
    this.maxFrameBytes = init.maxFrameBytes ?? 64 * 1024
    this.lp = lpStream(stream, {
      maxDataLength: this.maxFrameBytes,
      maxBufferSize: Math.max(init.maxBufferedBytes ?? 0, 2 * this.maxFrameBytes + 16)
    })
  }

  /**
   * The next frame, or null when the remote closed its side cleanly
   * between frames. Throws FrameError (and resets the stream) for an
   * oversized or truncated frame; aborts with the signal.
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
    try {
      return await this.lp.read({ signal })
    } catch (err) {
      if (signal.aborted) throw err
      const e = err as Error
      // lpStream reports a close between frames as EOF after 0 of the 1
      // length byte it wanted; that is a clean end, not a broken frame.
      if (e.name === 'UnexpectedEOFError' && / 0\/1 bytes/.test(e.message)) return null
      const fe = new FrameError(frameErrorMessage(e, this.maxFrameBytes))
      this.stream.abort(fe)
      throw fe
    }
  }

  /** Sends one frame, waiting for the stream to drain when its buffer is full (backpressure). */
  async write (frame: Uint8Array | Uint8ArrayList, signal: AbortSignal): Promise<void> {
    await this.lp.write(frame, { signal })
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
