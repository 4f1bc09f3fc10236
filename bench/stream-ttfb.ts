/**
 * Streaming gateway latency and stall benchmark, on loopback.
 *
 * 1. Time to first byte and to the first 2 MiB through the gateway for a
 *    read at offset 0 and at a random offset of an item of which no local
 *    piece exists yet (a fresh StreamingDownload from one libp2p origin
 *    seeder per read; the clock starts before the download starts, so
 *    dial, handshake and manifest are included). Baseline in the same run:
 *    the same reads straight from the seeder's HTTP web seed.
 *    "From a local swarm": the same fresh read with `--swarm-peers` (3)
 *    running peers (the peer runtime, startPeer, each already holding the
 *    item) as sources plus the seeder as origin fallback, as `swarmcdn
 *    stream` gets them from its first lookup.
 * 2. Stalls: a source throttled to 1.5x a constant media bit rate, read
 *    from offset 0 by a simulated player (starts after 1 s of media,
 *    plays at the bit rate, stalls when the playhead reaches the received
 *    bytes and resumes after another 1 s arrived). A run at 0.75x shows
 *    the counter does count stalls when the source is too slow.
 *
 *   node_modules/.bin/node dist/bench/stream-ttfb.js [--size-mib 1024] [--rounds 3] [--stall-mib 24] [--bitrate-kib 4096] [--swarm-peers 3]
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ContentStore } from '../src/store/content-store.js'
import { publishFile } from '../seeders/publish-file.js'
import { startWebSeed } from '../seeders/web-seed.js'
import { startOriginSeeder } from '../seeders/origin-seeder.js'
import { StreamingDownload } from '../src/client/streaming-download.js'
import type { DownloadSource } from '../src/client/download-content.js'
import { startPeer, type Peer } from '../src/client/peer.js'
import { startStreamingGateway, StreamingItems } from '../src/client/streaming-gateway.js'
import type { ContentProvider } from '../src/net/content-provider.js'
import type { VerifiedManifest } from '../src/core/content/manifest.js'

const MIB = 1024 * 1024
const FIRST_BYTES = 2 * MIB
/** The whole run stops starting new measurements after this long. */
const TIME_LIMIT_MS = 300_000

function arg (name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  if (i < 0) return fallback
  const v = Number(process.argv[i + 1])
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} wants a positive integer`)
  return v
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

interface Timing { ttfbMs: number, firstBytesMs: number }

/** GETs `url` from `offset` and times the first byte and the first `FIRST_BYTES` bytes, from `t0`; then hangs up. */
async function timeRead (url: string, offset: number, t0: number): Promise<Timing> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { range: `bytes=${offset}-${offset + FIRST_BYTES - 1}` } })
    let got = 0
    let ttfbMs = -1
    req.once('response', res => {
      if (res.statusCode !== 206) { reject(new Error(`status ${res.statusCode ?? '?'}`)); req.destroy(); return }
      res.on('data', (c: Buffer) => {
        if (ttfbMs < 0) ttfbMs = performance.now() - t0
        got += c.length
      })
      res.once('end', () => {
        if (got !== FIRST_BYTES) reject(new Error(`got ${got} bytes`))
        else resolve({ ttfbMs, firstBytesMs: performance.now() - t0 })
      })
    })
    req.once('error', reject)
    req.end()
  })
}

/** A provider that takes `delayMs` per piece: about pieceSize/delayMs bytes per second from one seeder stream. */
function throttled (inner: ContentProvider, delayMs: number): ContentProvider {
  return {
    has: id => inner.has(id),
    manifest: id => inner.manifest(id),
    readPiece: async (id, index) => {
      await new Promise(resolve => setTimeout(resolve, delayMs))
      return await inner.readPiece(id, index)
    }
  }
}

/** Arrival times of a whole-item read: [ms since start, cumulative bytes]. */
async function readAll (url: string, t0: number): Promise<Array<[number, number]>> {
  return await new Promise((resolve, reject) => {
    const arrivals: Array<[number, number]> = []
    let got = 0
    const req = request(url, { agent: false })
    req.once('response', res => {
      res.on('data', (c: Buffer) => { got += c.length; arrivals.push([performance.now() - t0, got]) })
      res.once('end', () => { resolve(arrivals) })
    })
    req.once('error', reject)
    req.end()
  })
}

/** Plays the arrivals at `bytesPerSec` with a 1 s start/rebuffer threshold, in 64 KiB steps; counts stalls. */
function simulatePlayer (arrivals: Array<[number, number]>, totalBytes: number, bytesPerSec: number): { startupMs: number, stalls: number, stallMs: number } {
  const bufferBytes = Math.min(bytesPerSec, totalBytes) // 1 s of media
  const stepBytes = 64 * 1024
  const receivedAt = (bytes: number): number => {
    let lo = 0
    let hi = arrivals.length - 1
    if (hi < 0 || arrivals[hi][1] < bytes) return Infinity
    while (lo < hi) { const mid = (lo + hi) >> 1; if (arrivals[mid][1] >= bytes) hi = mid; else lo = mid + 1 }
    return arrivals[lo][0]
  }
  let clock = receivedAt(bufferBytes)
  const startupMs = clock
  let pos = 0
  let stalls = 0
  let stallMs = 0
  while (pos < totalBytes) {
    const next = Math.min(pos + stepBytes, totalBytes)
    const due = clock + (next - pos) / bytesPerSec * 1000
    if (receivedAt(next) <= due) { clock = due; pos = next; continue }
    // The playhead reached the received bytes: wait for another second of media.
    stalls++
    const resume = receivedAt(Math.min(pos + bufferBytes, totalBytes))
    stallMs += resume - clock
    clock = resume
  }
  return { startupMs, stalls, stallMs }
}

/** Runs the benchmark and prints a table and one JSON line. */
export async function main (): Promise<void> {
  const deadline = Date.now() + TIME_LIMIT_MS
  const sizeMib = arg('size-mib', 1024)
  const rounds = arg('rounds', 3)
  const stallMib = arg('stall-mib', 24)
  const bitrateBytes = arg('bitrate-kib', 4096) * 1024
  const swarmPeers = arg('swarm-peers', 3)
  const dir = await mkdtemp(join(tmpdir(), 'swarmcdn-bench-stream-'))
  let run = 0
  try {
    const source = join(dir, 'item.bin')
    const fh = await open(source, 'w')
    for (let i = 0; i < sizeMib; i += 16) await fh.write(randomBytes(Math.min(16, sizeMib - i) * MIB))
    await fh.close()
    const store = await ContentStore.open(join(dir, 'store'))
    const key = generateKeyPairSync('ed25519').privateKey
    const m = await publishFile(store, source, key)
    const seeder = await startOriginSeeder({ store, listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'] })
    const web = await startWebSeed({ store, port: 0 })
    const peers: Peer[] = []
    const results: Record<string, { gateway: Timing[], swarm: Timing[], webSeed: Timing[] }> = {}
    try {
      for (let i = 0; i < swarmPeers; i++) peers.push(await startPeer({ role: 'supernode', store, listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'], prefixTablePaths: [] }))
      const swarmSources: DownloadSource[] = [...peers.map(p => ({ address: p.multiaddrs()[0] })), { address: seeder.multiaddrs[0], isOrigin: true }]
      /** One fresh streaming download from `sources` read at `offset` through its own gateway; the clock starts before the download. */
      const gatewayRead = async (sources: DownloadSource[], offset: number): Promise<Timing> => {
        const ac = new AbortController()
        const out = join(dir, `out-${run++}.bin`)
        const t0 = performance.now()
        const dl = await StreamingDownload.start(m.contentId, out, sources, { signal: ac.signal })
        const items = new StreamingItems()
        items.add(dl)
        const gw = await startStreamingGateway({ downloads: items })
        try {
          return await timeRead(gw.urlFor(dl), offset, t0)
        } finally {
          ac.abort()
          await dl.done.catch(() => {})
          await gw.close()
          await rm(`${out}.swarmcdn-partial`, { force: true })
          await rm(`${out}.swarmcdn-partial.state`, { force: true })
        }
      }
      const offsets: Array<[string, number]> = [['offset 0', 0]]
      for (let r = 0; r < rounds; r++) offsets.push([`random offset #${r + 1}`, Math.floor(Math.random() * (m.lengthBytes - FIRST_BYTES))])
      for (const [label, offset] of offsets) {
        const key = label.startsWith('random') ? 'random offset' : label
        results[key] ??= { gateway: [], swarm: [], webSeed: [] }
        for (let r = 0; r < (label === 'offset 0' ? rounds : 1); r++) {
          if (Date.now() > deadline) break
          results[key].webSeed.push(await timeRead(`${web.url}/c/${m.contentId}`, offset, performance.now()))
          results[key].gateway.push(await gatewayRead([{ address: seeder.multiaddrs[0] }], offset))
          results[key].swarm.push(await gatewayRead(swarmSources, offset))
        }
      }
    } finally {
      for (const p of peers) await p.stop()
      await web.close()
      await seeder.stop()
    }

    // Stalls, on a smaller item with 256 KiB pieces.
    const stallSource = join(dir, 'media.bin')
    await (await import('node:fs/promises')).writeFile(stallSource, randomBytes(stallMib * MIB))
    const media = await publishFile(store, stallSource, key, { pieceSizeBytes: 256 * 1024 })
    const stallRuns: Array<{ ratio: number, sourceBytesPerSec: number, startupMs: number, stalls: number, stallMs: number }> = []
    for (const ratio of [1.5, 0.75]) {
      if (Date.now() > deadline) break
      stallRuns.push(await stallRun(store, media, dir, ratio, bitrateBytes))
    }
    await store.close()

    const row = (name: string, xs: Timing[]): string => xs.length === 0
      ? `| ${name} | - | - |`
      : `| ${name} | ${median(xs.map(x => x.ttfbMs)).toFixed(0)} | ${median(xs.map(x => x.firstBytesMs)).toFixed(0)} |`
    console.log(`item ${sizeMib} MiB, ${m.pieceCount} pieces of ${m.pieceSizeBytes / MIB} MiB; medians over ${rounds} reads`)
    console.log('| read | TTFB ms | first 2 MiB ms |')
    console.log('| --- | ---: | ---: |')
    for (const [k, v] of Object.entries(results)) {
      console.log(row(`gateway, ${k}, local seeder (fresh download)`, v.gateway))
      console.log(row(`gateway, ${k}, local swarm: ${swarmPeers} peers + seeder (fresh download)`, v.swarm))
      console.log(row(`web seed baseline, ${k}`, v.webSeed))
    }
    const ratio = (a: Timing[], b: Timing[], f: (t: Timing) => number): string => (median(a.map(f)) / median(b.map(f))).toFixed(1)
    for (const [k, v] of Object.entries(results)) {
      if (v.webSeed.length === 0) continue
      if (v.gateway.length > 0) console.log(`${k}: seeder gateway / web seed = ${ratio(v.gateway, v.webSeed, x => x.ttfbMs)}x TTFB, ${ratio(v.gateway, v.webSeed, x => x.firstBytesMs)}x first 2 MiB`)
      if (v.swarm.length > 0) console.log(`${k}: swarm gateway / web seed = ${ratio(v.swarm, v.webSeed, x => x.ttfbMs)}x TTFB, ${ratio(v.swarm, v.webSeed, x => x.firstBytesMs)}x first 2 MiB`)
    }
    console.log(`stalls: ${stallMib} MiB item, 256 KiB pieces, media bit rate ${(bitrateBytes / MIB).toFixed(1)} MiB/s, start and rebuffer at 1 s of media`)
    console.log('| source rate / bit rate | measured source MiB/s | startup ms | stalls | stalled ms |')
    console.log('| ---: | ---: | ---: | ---: | ---: |')
    for (const s of stallRuns) console.log(`| ${s.ratio} | ${(s.sourceBytesPerSec / MIB).toFixed(2)} | ${s.startupMs.toFixed(0)} | ${s.stalls} | ${s.stallMs.toFixed(0)} |`)
    console.log(JSON.stringify({ bench: 'stream-ttfb', sizeMib, rounds, swarmPeers, results, stallRuns }))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function stallRun (store: ContentStore, media: VerifiedManifest, dir: string, ratio: number, bitrateBytes: number): Promise<{ ratio: number, sourceBytesPerSec: number, startupMs: number, stalls: number, stallMs: number }> {
  // One seeder stream serves a piece per (delay + transfer); transfer on loopback is ~1 ms for 256 KiB, so the delay sets the rate.
  const delayMs = media.pieceSizeBytes / (ratio * bitrateBytes) * 1000
  const seeder = await startOriginSeeder({ store: throttled(store, delayMs), listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'] })
  const ac = new AbortController()
  try {
    const t0 = performance.now()
    const dl = await StreamingDownload.start(media.contentId, join(dir, `media-${ratio}.bin`), [{ address: seeder.multiaddrs[0] }], { signal: ac.signal })
    const items = new StreamingItems()
    items.add(dl)
    const gw = await startStreamingGateway({ downloads: items })
    try {
      const arrivals = await readAll(gw.urlFor(dl), t0)
      const elapsed = arrivals[arrivals.length - 1][0]
      return { ratio, sourceBytesPerSec: media.lengthBytes / (elapsed / 1000), ...simulatePlayer(arrivals, media.lengthBytes, bitrateBytes) }
    } finally {
      ac.abort()
      await dl.done.catch(() => {})
      await gw.close()
    }
  } finally {
    await seeder.stop()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main()
}
