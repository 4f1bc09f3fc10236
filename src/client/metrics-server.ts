/**
 * The Prometheus endpoint of `peer --metrics` and `seed --metrics`: plain
 * HTTP, `GET`/`HEAD /metrics` answers the registry in the text exposition
 * format; anything else is 404 (or 405 for other methods). It is meant
 * for an operator's scraper, so it is small and bounded: few connections,
 * short deadlines, and nothing of the request reaches the registry.
 * Metric values are read at scrape time, so the piece path pays nothing
 * for an endpoint nobody scrapes (docs/BENCHMARKS.md measures it).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'

/** Options for startMetricsServer. */
export interface MetricsServerInit {
  /** The registry to expose. */
  registry: Registry
  /** Address to bind, e.g. 127.0.0.1 or 0.0.0.0. Default 127.0.0.1. */
  host?: string
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number
  /** Connections at once (a scraper needs one or two). Default 16. */
  maxConnections?: number
  /** Time for a request's headers and for the whole request, ms. Default 10 s. */
  requestTimeoutMs?: number
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** `http://HOST:PORT/metrics`. */
  url: string
  port: number
  close: () => Promise<void>
}

/** The metrics endpoint could not listen. */
export class MetricsServerError extends Error {
  override name = 'MetricsServerError'
  readonly code = 'ERR_METRICS_SERVER'
}

/** Starts serving `init.registry` on `/metrics`; resolves once listening. */
export async function startMetricsServer (init: MetricsServerInit): Promise<MetricsServer> {
  const host = init.host ?? '127.0.0.1'
  const requestTimeoutMs = init.requestTimeoutMs ?? 10_000
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('use GET /metrics\n')
      return
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at /metrics\n')
      return
    }
    init.registry.metrics().then(text => {
      res.writeHead(200, { 'content-type': init.registry.contentType, 'cache-control': 'no-store' })
      res.end(req.method === 'HEAD' ? undefined : text)
    }, (err: Error) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`)
    })
  })
  server.maxConnections = init.maxConnections ?? 16
  server.headersTimeout = requestTimeoutMs
  server.requestTimeout = requestTimeoutMs
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', err => { reject(new MetricsServerError(`cannot serve metrics on ${host}:${init.port ?? 0}: ${err.message}`, { cause: err })) })
    server.listen(init.port ?? 0, host, () => { resolve() })
  })
  const port = (server.address() as AddressInfo).port
  const shown = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${shown}:${port}/metrics`,
    port,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}
