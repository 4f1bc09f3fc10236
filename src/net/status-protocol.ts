/**
 * `/swarmcdn/status/1.0.0`: the dialer reads one JSON document (the
 * overlay's status plus whatever the peer adds) and the stream ends. Used
 * by `swarmcdn status --peer`; capped at MAX_STATUS_BYTES both ways.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { SwarmNode } from './swarm-node.js'
import { STATUS_PROTOCOL } from './protocol-ids.js'
import { FramedStream, FrameError, withTimeout } from './framed-stream.js'

/** Largest status document, in bytes. */
export const MAX_STATUS_BYTES = 16 * 1024
/** Default time for dial plus read, in ms. */
export const DEFAULT_STATUS_TIMEOUT_MS = 5000

/** Answers every status stream with `status()` as JSON. */
export async function registerStatusProtocol (node: SwarmNode, status: () => unknown): Promise<void> {
  await node.handle(STATUS_PROTOCOL, async stream => {
    const signal = AbortSignal.timeout(DEFAULT_STATUS_TIMEOUT_MS)
    const framed = new FramedStream(stream, { maxFrameBytes: 64 })
    try {
      const bytes = new TextEncoder().encode(JSON.stringify(status()))
      if (bytes.length > MAX_STATUS_BYTES) throw new FrameError('status document too large')
      await framed.write(bytes, signal)
      await framed.close(signal)
    } catch (err) {
      stream.abort(err as Error)
    }
  }, { maxInboundStreams: 4 })
}

/** Reads the status document of the peer at `target`. */
export async function fetchStatus (node: SwarmNode, target: Multiaddr, init: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<unknown> {
  const signal = withTimeout(init.signal, init.timeoutMs ?? DEFAULT_STATUS_TIMEOUT_MS)
  const stream = await node.dialProtocol(target, STATUS_PROTOCOL, { signal })
  const framed = new FramedStream(stream, { maxFrameBytes: MAX_STATUS_BYTES })
  try {
    const bytes = await framed.read(signal)
    if (bytes == null) throw new FrameError('peer closed the status stream without an answer')
    return JSON.parse(new TextDecoder().decode(bytes))
  } finally {
    if (stream.status === 'open') await framed.close(signal).catch(() => {})
  }
}
