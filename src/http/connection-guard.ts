/**
 * Connection accounting for the item servers (web seed, streaming
 * gateway), against slowloris and clients that stop reading. node's own
 * limits are not enough: `headersTimeout` is only checked every
 * `connectionsCheckingInterval` and a header line restarts nothing, but
 * `server.maxConnections` refuses newcomers rather than the sockets that
 * hold slots without asking for anything, and nothing stops one host from
 * taking every slot.
 *
 * Rules:
 * - A socket is *waiting* from its arrival until its request's headers
 *   are parsed, and again after each response while kept alive; it is
 *   *busy* while a request is being answered.
 * - A waiting socket is destroyed `headersTimeoutMs` after it started
 *   waiting (a real deadline, checked every `checkIntervalMs`), and as
 *   soon as, past the first second, it has sent fewer than
 *   `minRequestBytesPerSec` on average since it started waiting. A kept-
 *   alive socket that sends nothing is node's `keepAliveTimeout`'s.
 * - At most `maxConnectionsPerAddress` sockets per remote address and
 *   `maxConnections` in all. A newcomer over either cap takes the slot of
 *   the oldest waiting socket (of its own address, for the per-address
 *   cap: it asked for nothing yet), else of the busy socket whose client
 *   stopped reading longest ago (1 s at least), else it is destroyed on
 *   arrival. So one host holds at most its share, and a client behind the
 *   same address as an attacker still gets in.
 * - A busy socket whose writes have not moved for `stalledResponseMs`
 *   while node waits for it to drain is destroyed: its client stopped
 *   reading, and the slot and the file handle go to someone who reads.
 */
import type { Server } from 'node:http'
import type { Socket } from 'node:net'

/** Default time between checks of waiting and stalled sockets, ms. */
export const DEFAULT_CHECK_INTERVAL_MS = 250
/** A waiting socket is judged on its average rate only after this long, ms: the first packet may take a round trip. */
const RATE_GRACE_MS = 1000

/** When full, a busy socket whose writes have not moved for this long gives its slot to a newcomer, ms (its own stall limit may be much longer: a paused player). */
const EVICT_STALLED_AFTER_MS = 1000

/** Limits of guardConnections (all required: the servers resolve their defaults). */
export interface ConnectionGuardLimits {
  /** Sockets at once. */
  maxConnections: number
  /** Sockets at once from one remote address. */
  maxConnectionsPerAddress: number
  /** Longest a socket may wait before its request's headers are complete, ms. */
  headersTimeoutMs: number
  /** Least average rate at which a waiting socket must send its request, bytes/s. */
  minRequestBytesPerSec: number
  /** A busy socket whose writes have not moved for this long while they wait to drain is closed, ms. */
  stalledResponseMs: number
  /** Time between checks, ms. Default DEFAULT_CHECK_INTERVAL_MS. */
  checkIntervalMs?: number
}

/** What the guard did, for tests and metrics. */
export interface ConnectionGuardStats {
  /** Sockets open now. */
  open: number
  /** Sockets destroyed on arrival (per-address cap, or full with nobody to evict). */
  refused: number
  /** Waiting sockets destroyed to make room for a newcomer. */
  evicted: number
  /** Waiting sockets destroyed at the header deadline or under the minimum rate. */
  tooSlow: number
  /** Busy sockets destroyed because their client stopped reading. */
  stalled: number
}

interface Tracked {
  socket: Socket
  address: string
  busy: boolean
  /** When the socket started waiting (arrival, or end of its last response). */
  waitingSinceMs: number
  bytesReadAtWait: number
  lastBytesWritten: number
  lastWriteMoveMs: number
}

/** Applies the rules to `server` until it closes; returns live stats. */
export function guardConnections (server: Server, limits: ConnectionGuardLimits): () => ConnectionGuardStats {
  const tracked = new Map<Socket, Tracked>()
  const perAddress = new Map<string, number>()
  const stats = { refused: 0, evicted: 0, tooSlow: 0, stalled: 0 }

  const forget = (t: Tracked): void => {
    if (!tracked.delete(t.socket)) return
    const n = (perAddress.get(t.address) ?? 1) - 1
    if (n <= 0) perAddress.delete(t.address); else perAddress.set(t.address, n)
  }
  const startWaiting = (t: Tracked, nowMs: number): void => {
    t.busy = false
    t.waitingSinceMs = nowMs
    t.bytesReadAtWait = t.socket.bytesRead
  }
  const isStalled = (t: Tracked, nowMs: number): boolean => t.busy && t.socket.writableNeedDrain && nowMs - t.lastWriteMoveMs >= limits.stalledResponseMs

  /** The oldest waiting socket (of `address`, if given), else the busy one whose client stopped reading longest ago. */
  const victimFor = (nowMs: number, address?: string): Tracked | undefined => {
    let victim: Tracked | undefined
    for (const t of tracked.values()) {
      if (address != null && t.address !== address) continue
      if (!t.busy && (victim == null || t.waitingSinceMs < victim.waitingSinceMs)) victim = t
    }
    if (victim != null) return victim
    for (const t of tracked.values()) {
      if (address != null && t.address !== address) continue
      if (!t.busy || !t.socket.writableNeedDrain || nowMs - t.lastWriteMoveMs < EVICT_STALLED_AFTER_MS) continue
      if (victim == null || t.lastWriteMoveMs < victim.lastWriteMoveMs) victim = t
    }
    return victim
  }

  server.on('connection', (socket: Socket) => {
    const nowMs = Date.now()
    const address = socket.remoteAddress ?? '?'
    const full = (perAddress.get(address) ?? 0) >= limits.maxConnectionsPerAddress
      ? victimFor(nowMs, address) ?? null
      : tracked.size >= limits.maxConnections ? victimFor(nowMs) ?? null : undefined
    if (full === null) {
      stats.refused++
      socket.destroy()
      return
    }
    if (full != null) {
      stats.evicted++
      forget(full)
      full.socket.destroy()
    }
    const t: Tracked = { socket, address, busy: false, waitingSinceMs: nowMs, bytesReadAtWait: 0, lastBytesWritten: 0, lastWriteMoveMs: nowMs }
    tracked.set(socket, t)
    perAddress.set(address, (perAddress.get(address) ?? 0) + 1)
    socket.once('close', () => { forget(t) })
  })

  server.on('request', (req, res) => {
    const t = tracked.get(req.socket)
    if (t == null) return
    t.busy = true
    t.lastBytesWritten = req.socket.bytesWritten
    t.lastWriteMoveMs = Date.now()
    res.once('finish', () => { if (!req.socket.destroyed) startWaiting(t, Date.now()) })
  })

  const timer = setInterval(() => {
    const nowMs = Date.now()
    for (const t of [...tracked.values()]) {
      if (t.busy) {
        const written = t.socket.bytesWritten
        if (written !== t.lastBytesWritten || !t.socket.writableNeedDrain) {
          t.lastBytesWritten = written
          t.lastWriteMoveMs = nowMs
        } else if (isStalled(t, nowMs)) {
          stats.stalled++
          forget(t)
          t.socket.destroy()
        }
        continue
      }
      const waitedMs = nowMs - t.waitingSinceMs
      const sent = t.socket.bytesRead - t.bytesReadAtWait
      // A kept-alive socket that has sent nothing yet is idle, not slow: keepAliveTimeout bounds it.
      const idleKeepAlive = sent === 0 && t.bytesReadAtWait > 0
      const tooLate = waitedMs >= limits.headersTimeoutMs && !idleKeepAlive
      const tooSlow = sent > 0 && waitedMs >= RATE_GRACE_MS && sent * 1000 < limits.minRequestBytesPerSec * waitedMs
      if (tooLate || tooSlow) {
        stats.tooSlow++
        forget(t)
        t.socket.destroy()
      }
    }
  }, limits.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS)
  timer.unref()
  server.once('close', () => { clearInterval(timer) })

  return () => ({ open: tracked.size, ...stats })
}
