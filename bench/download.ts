/**
 * Download throughput over libp2p on loopback, against a raw libp2p stream
 * of the same bytes (same TCP + Noise + yamux) measured in the same run.
 *
 *   node_modules/.bin/node dist/bench/download.js [SIZE_MIB [ROUNDS]]
 *   (SIZE_MIB default 1024, or SWARMCDN_BENCH_MIB; ROUNDS default 1, or SWARMCDN_BENCH_ROUNDS)
 *
 * A second baseline is the same bytes from the seeder's HTTP web seed with
 * a plain node:http client writing to disk (bench/http-baseline.ts). Each
 * round runs raw, swarmcdn and HTTP back to back, so the ratios of one
 * round share the machine's load of the moment.
 *
 * The seeder runs in this process; each client runs in a child process so
 * its CPU time and peak RSS are its own (peak RSS as VmHWM: see peakRssMiB). Bounded: each client run is killed
 * after BENCH_RUN_TIMEOUT_MS.
 */
import { spawn } from 'node:child_process'
import { generateKeyPairSync, randomFillSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { multiaddr } from '@multiformats/multiaddr'
import type { Stream } from '@libp2p/interface'
import { ContentStore } from '../src/store/content-store.js'
import { publishFile } from '../seeders/publish-file.js'
import { startOriginSeeder } from '../seeders/origin-seeder.js'
import { createSwarmNode } from '../src/net/swarm-node.js'
import { downloadContent } from '../src/client/download-content.js'
import { downloadOverHttp } from './http-baseline.js'
import { SWARMCDN_NODE_FLAGS } from '../src/cli/node-flags.js'

const RAW_PROTOCOL = '/swarmcdn-bench/raw/1.0.0'
const PIECE_SIZE_BYTES = 1024 * 1024
const CHUNK_BYTES = 1024 * 1024
const BENCH_RUN_TIMEOUT_MS = 10 * 60_000

interface ClientReport {
  mode: string
  bytes: number
  ms: number
  cpuMs: number
  /** The client's own peak RSS: VmHWM of its address space (Linux), else maxRSS. */
  maxRssMiB: number
  /** process.resourceUsage().maxRSS: on Linux it includes the parent's peak RSS at spawn time (see peakRssMiB). */
  ruMaxRssMiB: number
}

/**
 * This process's peak RSS in MiB. Not `resourceUsage().maxRSS` alone: on
 * Linux, exec keeps the high-water mark of the forked copy of the parent,
 * so a child of a 600 MiB parent reports >= 600 MiB however small it is.
 * VmHWM is the high-water mark of the child's own address space.
 */
function peakRssMiB (): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))
    if (m != null) return Number(m[1]) / 1024
  } catch {}
  return process.resourceUsage().maxRSS / 1024
}

async function child (mode: string, addr: string, contentId: string, out: string): Promise<void> {
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  let bytes = 0
  if (mode === 'raw') {
    const node = await createSwarmNode()
    const stream = await node.dialProtocol(multiaddr(addr), RAW_PROTOCOL)
    for await (const chunk of stream) bytes += chunk.byteLength
    await node.stop()
  } else if (mode === 'http') {
    const res = await downloadOverHttp(addr, { destPath: out })
    if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${addr}`)
    bytes = res.bytes
  } else {
    const res = await downloadContent(contentId, out, [{ address: addr, isOrigin: true }])
    bytes = res.manifest.lengthBytes
  }
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const report: ClientReport = { mode, bytes, ms, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMiB: peakRssMiB(), ruMaxRssMiB: process.resourceUsage().maxRSS / 1024 }
  process.stdout.write(JSON.stringify(report) + '\n')
}

/** V8 flags of the client processes: SWARMCDN_NODE_FLAGS, or none with SWARMCDN_BENCH_DEFAULT_FLAGS=1 (to see their effect). */
const nodeFlags = process.env.SWARMCDN_BENCH_DEFAULT_FLAGS === '1' ? [] : SWARMCDN_NODE_FLAGS

async function runChild (args: string[]): Promise<ClientReport> {
  const script = fileURLToPath(import.meta.url)
  return await new Promise((resolve, reject) => {
    // Every client runs with the V8 flags `swarmcdn` itself runs with (bin/swarmcdn.js), baselines included.
    const p = spawn(process.execPath, [...nodeFlags, script, '--child', ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    p.stdout.on('data', (d: Buffer) => { out += d.toString() })
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`${args[0]} client timed out`)) }, BENCH_RUN_TIMEOUT_MS)
    p.on('exit', code => {
      clearTimeout(timer)
      if (code !== 0) { reject(new Error(`${args[0]} client exited ${code}`)); return }
      resolve(JSON.parse(out.trim().split('\n').pop()!) as ClientReport)
    })
  })
}

async function main (): Promise<void> {
  const sizeMiB = Number(process.argv[2] ?? process.env.SWARMCDN_BENCH_MIB ?? 1024)
  const rounds = Number(process.argv[3] ?? process.env.SWARMCDN_BENCH_ROUNDS ?? 1)
  if (!(sizeMiB >= 1) || !Number.isInteger(rounds) || rounds < 1) throw new RangeError('usage: download.js [SIZE_MIB [ROUNDS]]')
  const dir = await mkdtemp(join(tmpdir(), 'swarmcdn-bench-'))
  try {
    const source = join(dir, 'item.bin')
    const fh = await open(source, 'w')
    const buf = Buffer.alloc(CHUNK_BYTES)
    for (let i = 0; i < sizeMiB; i++) { randomFillSync(buf); await fh.write(buf) }
    await fh.close()
    const store = await ContentStore.open(join(dir, 'store'))
    const { privateKey } = generateKeyPairSync('ed25519')
    const manifest = await publishFile(store, source, privateKey, { pieceSizeBytes: PIECE_SIZE_BYTES })
    await rm(source)
    const seeder = await startOriginSeeder({ store, listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'], http: { host: '127.0.0.1', port: 0 } })
    await seeder.node.handle(RAW_PROTOCOL, async (stream: Stream) => {
      const data = await open(store.dataPath(manifest.contentId), 'r')
      try {
        for (let off = 0; off < manifest.lengthBytes; off += CHUNK_BYTES) {
          const chunk = new Uint8Array(Math.min(CHUNK_BYTES, manifest.lengthBytes - off))
          await data.read(chunk, 0, chunk.length, off)
          if (!stream.send(chunk)) await stream.onDrain({ signal: AbortSignal.timeout(60_000) })
        }
        await stream.close()
      } finally {
        await data.close()
      }
    })
    const addr = seeder.multiaddrs[0]
    const itemUrl = `${seeder.httpUrl!}/c/${manifest.contentId}`
    const out = join(dir, 'out.bin')
    const mibps = (r: ClientReport): number => r.bytes / 1048576 / (r.ms / 1000)
    const row = (name: string, r: ClientReport): string =>
      `| ${name} | ${mibps(r).toFixed(1)} | ${(r.cpuMs / 1000).toFixed(2)} | ${r.maxRssMiB.toFixed(0)} |`
    const results: Array<{ raw: ClientReport, swarm: ClientReport, http: ClientReport }> = []
    console.log(`item: ${sizeMiB} MiB, ${manifest.pieceCount} pieces of ${PIECE_SIZE_BYTES / 1048576} MiB, loopback, client in a child process with flags [${nodeFlags.join(' ')}], ${rounds} round(s)`)
    console.log('| round | client | MiB/s | client CPU s | client peak RSS (VmHWM) MiB |')
    console.log('| --- | --- | --- | --- | --- |')
    for (let k = 1; k <= rounds; k++) {
      const raw = await runChild(['raw', addr, manifest.contentId, out])
      await rm(out, { force: true })
      const swarm = await runChild(['swarm', addr, manifest.contentId, out])
      await rm(out, { force: true })
      const http = await runChild(['http', itemUrl, manifest.contentId, out])
      await rm(out, { force: true })
      results.push({ raw, swarm, http })
      console.log(`| ${k} ${row('raw libp2p stream (baseline)', raw).slice(2)}`)
      console.log(`| ${k} ${row('swarmcdn get (verify + write to disk)', swarm).slice(2)}`)
      console.log(`| ${k} ${row('HTTP web seed, node:http to disk (baseline)', http).slice(2)}`)
    }
    await seeder.stop()
    await store.close()
    for (const [k, { raw, swarm, http }] of results.entries()) {
      console.log(`round ${k + 1}: swarmcdn/raw ${(mibps(swarm) / mibps(raw) * 100).toFixed(0)}% (target >= 70%), ` +
        `swarmcdn/HTTP ${(mibps(swarm) / mibps(http) * 100).toFixed(0)}%, HTTP/raw ${(mibps(http) / mibps(raw) * 100).toFixed(0)}%; ` +
        `swarmcdn client peak RSS ${swarm.maxRssMiB.toFixed(0)} MiB (target < 200)`)
    }
    console.log(JSON.stringify({ sizeMiB, rounds: results.map(r => ({ ...r, ratioRaw: mibps(r.swarm) / mibps(r.raw), ratioHttp: mibps(r.swarm) / mibps(r.http) })) }))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4], process.argv[5], process.argv[6])
  process.exit(0)
} else {
  await main()
}
