/**
 * Web seed throughput on loopback against a bare baseline: the same
 * published file served by startWebSeed, and by fs.createReadStream piped
 * into a node:http server that does nothing else. Both are downloaded by
 * the same plain node:http client (bench/http-baseline.ts), alternating,
 * and the medians are compared.
 *
 *   node_modules/.bin/node dist/bench/web-seed-throughput.js [--size-mib 256] [--rounds 5]
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ContentStore } from '../src/store/content-store.js'
import { publishFile } from '../seeders/publish-file.js'
import { startWebSeed } from '../seeders/web-seed.js'
import { downloadOverHttp, type HttpDownloadResult } from './http-baseline.js'

const MIB = 1024 * 1024

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

/** Runs the comparison and prints a table and one JSON line. */
export async function main (): Promise<void> {
  const sizeMib = arg('size-mib', 256)
  const rounds = arg('rounds', 5)
  const dir = await mkdtemp(join(tmpdir(), 'swarmcdn-bench-webseed-'))
  const source = join(dir, 'item.bin')
  const fh = await open(source, 'w')
  for (let i = 0; i < sizeMib; i += 16) await fh.write(randomBytes(Math.min(16, sizeMib - i) * MIB))
  await fh.close()
  const store = await ContentStore.open(join(dir, 'store'))
  const publishStart = performance.now()
  const m = await publishFile(store, source, generateKeyPairSync('ed25519').privateKey)
  const publishMs = performance.now() - publishStart
  const seed = await startWebSeed({ store, port: 0 })
  const dataPath = store.dataPath(m.contentId)
  const bare = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': m.lengthBytes, 'content-type': 'application/octet-stream' })
    createReadStream(dataPath).pipe(res)
  })
  await new Promise<void>(resolve => bare.listen(0, '127.0.0.1', resolve))
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`
  const seedUrl = `${seed.url}/c/${m.contentId}`
  try {
    const check = (r: HttpDownloadResult): HttpDownloadResult => {
      if (r.bytes !== m.lengthBytes) throw new Error(`got ${r.bytes} bytes, want ${m.lengthBytes}`)
      return r
    }
    // warm the page cache and both code paths once, unmeasured
    check(await downloadOverHttp(bareUrl))
    check(await downloadOverHttp(seedUrl))
    const seedRuns: number[] = []
    const bareRuns: number[] = []
    const rangeRuns: number[] = []
    for (let i = 0; i < rounds; i++) {
      bareRuns.push(check(await downloadOverHttp(bareUrl)).bytesPerSec)
      seedRuns.push(check(await downloadOverHttp(seedUrl)).bytesPerSec)
      rangeRuns.push(check(await downloadOverHttp(seedUrl, { headers: { range: 'bytes=0-' } })).bytesPerSec)
    }
    const bareMibs = median(bareRuns) / MIB
    const seedMibs = median(seedRuns) / MIB
    const rangeMibs = median(rangeRuns) / MIB
    const fmt = (x: number): string => x.toFixed(0).padStart(6)
    process.stdout.write(`item ${sizeMib} MiB, ${rounds} rounds, median MiB/s on loopback (plain node:http client, body discarded)\n`)
    process.stdout.write(`  baseline fs.createReadStream -> bare node:http  ${fmt(bareMibs)}\n`)
    process.stdout.write(`  web seed GET /c/ID (200)                       ${fmt(seedMibs)}  ratio ${(seedMibs / bareMibs).toFixed(2)}\n`)
    process.stdout.write(`  web seed GET /c/ID Range: bytes=0- (206)       ${fmt(rangeMibs)}  ratio ${(rangeMibs / bareMibs).toFixed(2)}\n`)
    process.stdout.write(`  publish (hash + verified copy)                 ${fmt(sizeMib / (publishMs / 1000))}\n`)
    process.stdout.write(JSON.stringify({ bench: 'web-seed-throughput', sizeMib, rounds, baselineMibPerSec: bareMibs, webSeedMibPerSec: seedMibs, webSeedRangeMibPerSec: rangeMibs, ratio: seedMibs / bareMibs, rangeRatio: rangeMibs / bareMibs, publishMs }) + '\n')
  } finally {
    await seed.close()
    bare.closeAllConnections()
    await new Promise(resolve => bare.close(resolve))
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] != null && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch(err => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
    process.exitCode = 1
  })
}
