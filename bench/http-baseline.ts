/**
 * A plain HTTP download with node:http and nothing else: the baseline the
 * download benchmarks compare swarmcdn against ("the same bytes over the
 * seeder's HTTP with a plain HTTP client").
 */
import { createWriteStream } from 'node:fs'
import { request } from 'node:http'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

/** Options for downloadOverHttp. */
export interface HttpDownloadInit {
  /** Where to write the body. Default: discarded in memory (no file system cost in the measurement). */
  destPath?: string
  /** Extra request headers (e.g. `{ range: 'bytes=0-' }`). Default: none. */
  headers?: Record<string, string>
  /** Aborts the download. */
  signal?: AbortSignal
}

/** What one download measured. */
export interface HttpDownloadResult {
  /** HTTP status of the response. */
  status: number
  /** Body bytes received. */
  bytes: number
  /** From sending the request to the last body byte, in ms. */
  elapsedMs: number
  /** From sending the request to the first body byte, in ms (NaN for an empty body). */
  firstByteMs: number
  /** bytes / elapsed seconds. */
  bytesPerSec: number
}

/** A sink that only counts, so the benchmark measures the network path, not a disk. */
class CountingSink extends Writable {
  bytes = 0
  override _write (chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.bytes += chunk.length
    cb()
  }
}

/** Downloads `url` with node:http (fresh connection, no agent) and reports the throughput. */
export async function downloadOverHttp (url: string, init: HttpDownloadInit = {}): Promise<HttpDownloadResult> {
  const started = performance.now()
  const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    const req = request(url, { agent: false, headers: init.headers, signal: init.signal })
    req.once('response', resolve)
    req.once('error', reject)
    req.end()
  })
  let firstByteMs = Number.NaN
  res.once('data', () => { firstByteMs = performance.now() - started })
  let bytes = 0
  res.on('data', (c: Buffer) => { bytes += c.length })
  const sink = init.destPath != null ? createWriteStream(init.destPath) : new CountingSink()
  await pipeline(res, sink, { signal: init.signal })
  const elapsedMs = performance.now() - started
  return { status: res.statusCode ?? 0, bytes, elapsedMs, firstByteMs, bytesPerSec: bytes / (elapsedMs / 1000) }
}
