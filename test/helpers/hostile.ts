/**
 * An attacker for the adversarial tests: a bare libp2p node that opens
 * protocol streams on a target and writes raw bytes, with bounded waits.
 * Its traffic goes only to loopback targets.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { Stream } from '@libp2p/interface'
import { createSwarmNode, type SwarmNode } from '../../src/net/swarm-node.js'

/** Starts an attacker node dialing from `localAddress` (a 127.x address). */
export async function startAttacker (localAddress?: string): Promise<SwarmNode> {
  return await createSwarmNode({ listenMultiaddrs: [], dialLocalAddress: localAddress })
}

/** Opens `protocol` on `target` (a loopback multiaddr with /p2p/). */
export async function openStream (attacker: SwarmNode, target: string, protocol: string, timeoutMs = 5000): Promise<Stream> {
  if (!/^\/ip4\/127\./.test(target)) throw new Error(`attacks go to loopback only, not ${target}`)
  return await attacker.dialProtocol(multiaddr(target), protocol, { signal: AbortSignal.timeout(timeoutMs) })
}

/** A varint length-prefixed frame around `body`. */
export function frame (body: Uint8Array): Uint8Array {
  const len: number[] = []
  let n = body.length
  while (n >= 0x80) { len.push((n & 0x7f) | 0x80); n >>>= 7 }
  len.push(n)
  return Uint8Array.from([...len, ...body])
}

/** A frame of bytes that decode as no protocol's message. */
export function garbageFrame (bytes = 32): Uint8Array {
  return frame(new Uint8Array(bytes).fill(0xff))
}

/** Resolves when `stream` is closed or reset (true), or after `timeoutMs` (false). */
export async function closedWithin (stream: Stream, timeoutMs: number): Promise<boolean> {
  if (stream.status !== 'open') return true
  return await new Promise<boolean>(resolve => {
    const t = setTimeout(() => { stream.removeEventListener('close', onClose); resolve(false) }, timeoutMs)
    const onClose = (): void => { clearTimeout(t); resolve(true) }
    stream.addEventListener('close', onClose, { once: true })
  })
}

/** Sends `bytes` one at a time, `gapMs` apart, until done or the stream closes; resolves with the bytes sent. */
export async function trickle (stream: Stream, bytes: Uint8Array, gapMs: number): Promise<number> {
  for (let i = 0; i < bytes.length; i++) {
    if (stream.status !== 'open' || stream.writeStatus !== 'writable') return i
    try { stream.send(bytes.subarray(i, i + 1)) } catch { return i }
    await new Promise(resolve => setTimeout(resolve, gapMs))
  }
  return bytes.length
}

/** Options of startNonReaders. */
export interface NonReadersInit {
  /** Item to ask for. */
  contentId: string
  /** Pieces of the item (requests go to 0..requests-1 modulo this). */
  pieceCount: number
  /** xfer streams opened. */
  streams: number
  /** Requests sent on each stream after the handshake. */
  requests: number
}

/**
 * Opens `streams` xfer streams that each send a handshake and `requests`
 * requests and then never read: the stream is paused, so its yamux window
 * is never reopened and the server's writes wait for a drain that does
 * not come. Resolves once every stream has sent its requests (streams the
 * server refused are counted, not retried).
 */
export async function startNonReaders (attacker: SwarmNode, target: string, init: NonReadersInit): Promise<{ opened: number, refused: number, streams: Stream[] }> {
  const { encodeXferMessage } = await import('../../src/net/xfer-codec.js')
  const { parseContentId } = await import('../../src/core/content/content-id.js')
  const { XFER_PROTOCOL } = await import('../../src/net/protocol-ids.js')
  const contentId = parseContentId(init.contentId)
  const streams: Stream[] = []
  let refused = 0
  const one = async (): Promise<void> => {
    let s: Stream
    try {
      s = await openStream(attacker, target, XFER_PROTOCOL)
    } catch {
      refused++
      return
    }
    try {
      s.pause()
      streams.push(s)
      s.send(frame(encodeXferMessage({ type: 'handshake', contentId, bitfield: new Uint8Array(Math.ceil(init.pieceCount / 8)) })))
      for (let i = 0; i < init.requests; i++) s.send(frame(encodeXferMessage({ type: 'request', index: i % init.pieceCount })))
    } catch {
      refused++
    }
  }
  await Promise.all(Array.from({ length: init.streams }, one))
  return { opened: streams.length, refused, streams }
}

/** Options of floodBadFrames. */
export interface BadFrameFloodInit {
  /** Protocol the streams are opened on. */
  protocol: string
  /** The frame each stream sends. Default: garbageFrame(). */
  bad?: () => Uint8Array
  /** Streams tried (opened or refused) in all. */
  maxAttempts: number
  /** Pause after a refused attempt, ms, so a banned attacker does not spin. Default 20. */
  retryDelayMs?: number
  /** Stops the flood early. */
  signal?: AbortSignal
}

/**
 * Opens streams on `init.protocol` one after another, each sending one bad
 * frame and not waiting for an answer; a refused stream (a banned attacker:
 * its reconnect is refused by the target) is retried after a pause, so the
 * flood keeps costing the target handshakes. Resolves with the counts.
 */
export async function floodBadFrames (attacker: SwarmNode, target: string, init: BadFrameFloodInit): Promise<{ sent: number, refused: number }> {
  let sent = 0
  let refused = 0
  for (let k = 0; k < init.maxAttempts && init.signal?.aborted !== true; k++) {
    let s: Stream
    try {
      s = await openStream(attacker, target, init.protocol, 2000)
    } catch {
      refused++
      await new Promise(resolve => setTimeout(resolve, init.retryDelayMs ?? 20))
      continue
    }
    try { s.send((init.bad ?? garbageFrame)()); sent++ } catch { refused++ }
  }
  return { sent, refused }
}

/** True once `attacker` can no longer open a stream on `target` (connection refused, or the stream closed at once), trying for `timeoutMs`. */
export async function isRefused (attacker: SwarmNode, target: string, protocol: string, timeoutMs = 3000): Promise<boolean> {
  try {
    const s = await openStream(attacker, target, protocol, timeoutMs)
    return await closedWithin(s, timeoutMs)
  } catch {
    return true
  }
}

/** Options of floodProviderRecords. */
export interface ProviderFloodInit {
  /** Source addresses (127.x.y.z), one fresh peer identity each. */
  sources: string[]
  /** add-provider requests (random keys) each identity sends. */
  recordsEach: number
  /** Requests each identity sends back to back before pacing. Default 30 (the DHT lets a peer burst 40). */
  paceAfter?: number
  /** Then one request per this many ms. Default 60 (the DHT's per-peer limit is 20/s; its refusals would ban the identity before the quota stops it). */
  paceGapMs?: number
}

/** A provider-record flood that ran; its identities stay connected until `stop`. */
export interface ProviderFlood {
  /** Answers by kind: 'ack', an error code ('too-many-keys', 'rate-limited'), or 'no answer' (the identity was banned). */
  answers: Map<string, number>
  stop: () => Promise<void>
}

/**
 * Cheap identities storing provider records at `target` (an origin seeder
 * acting as a DHT member): each source's identity connects (one after the
 * other: libp2p's default limit of pending inbound connections is 10) and
 * stores its first record, then all send the rest at once, each paced.
 */
export async function floodProviderRecords (target: string, init: ProviderFloodInit): Promise<ProviderFlood> {
  const { randomBytes } = await import('node:crypto')
  const { DhtRpc } = await import('../../src/net/dht-rpc.js')
  const { contactOfMultiaddr } = await import('../../src/net/overlay-contacts.js')
  const { keyFromBytes } = await import('../../src/core/ids.js')
  const to = contactOfMultiaddr(target)
  const answers = new Map<string, number>()
  const sybils: Array<{ node: SwarmNode, rpc: InstanceType<typeof DhtRpc> }> = []
  const stop = async (): Promise<void> => {
    for (const s of sybils.splice(0)) {
      await s.rpc.stop()
      try { await s.node.stop() } catch {}
    }
  }
  let requestId = 1
  const add = async (rpc: InstanceType<typeof DhtRpc>): Promise<void> => {
    let what: string
    try {
      const m = (await rpc.request(to, { message: { type: 'add-provider', requestId: requestId++, key: keyFromBytes(randomBytes(32)) }, senderRole: 'supernode', senderAddrs: [] }, { timeoutMs: 20_000 })).message
      what = m.type === 'error' ? m.code : m.type
    } catch (err) {
      // An identity that keeps pushing past its quota is banned: its streams are then closed unanswered.
      if ((err as Error).name !== 'DhtRpcError') throw err
      what = 'no answer'
    }
    answers.set(what, (answers.get(what) ?? 0) + 1)
  }
  try {
    for (const source of init.sources) {
      const node = await startAttacker(source)
      const rpc = new DhtRpc(node, { onRequest: async () => undefined, onViolation: () => {} })
      sybils.push({ node, rpc })
      await add(rpc)
    }
    const paceAfter = init.paceAfter ?? 30
    const paceGapMs = init.paceGapMs ?? 60
    await Promise.all(sybils.map(async ({ rpc }) => {
      const started = Date.now()
      for (let sent = 1; sent < init.recordsEach; sent++) {
        const dueMs = started + (sent - paceAfter) * paceGapMs - Date.now()
        if (dueMs > 0) await new Promise(resolve => setTimeout(resolve, dueMs))
        await add(rpc)
      }
    }))
  } catch (err) {
    await stop()
    throw err
  }
  return { answers, stop }
}
