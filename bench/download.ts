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
 * Before/after of the whole commands: SWARMCDN_BENCH_COMPARE_LAUNCHER=OTHER/bin/swarmcdn.js
 * (any other build) runs that build's `get --peer` and `get --web-seed` in every round too.
 *
 * Before/after in one invocation: SWARMCDN_BENCH_COMPARE=OTHER/dist/bench/download.js
 * (a copy of an older build inside this checkout, so node_modules resolve)
 * adds a swarmcdn client run from that build to every round.
 *
 * Whole commands, same rounds: `swarmcdn get` run as a user runs it (a
 * fresh process through bin/swarmcdn.js, timed from spawn to exit: start,
 * libp2p, dial, manifest, every piece verified and written, rename, exit)
 * against the raw-stream child timed the same way and `curl` from the web
 * seed writing to disk (SWARMCDN_BENCH_NO_COMMANDS=1 leaves them out), and
 * `swarmcdn get --web-seed` from the same web seed (the same bytes over the
 * same protocol as curl: what the client adds to HTTP, verification and
 * resumable writes included).
 * CPU and peak RSS of a whole command come from /usr/bin/time when the
 * machine has it (apt-get install time).
 *
 * The seeder runs in a child process with the flags `swarmcdn seed` runs
 * with (SWARMCDN_BENCH_SEEDER_IN_PROCESS=1: in this process); each client runs in a child process so
 * its CPU time and peak RSS are its own (peak RSS as VmHWM: see peakRssMiB). Bounded: each client run is killed
 * after BENCH_RUN_TIMEOUT_MS.
 */
import { spawn, spawnSync } from 'node:child_process'
import { generateKeyPairSync, randomFillSync } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { multiaddr } from '@multiformats/multiaddr'
import type { Stream } from '@libp2p/interface'
import { ContentStore } from '../src/store/content-store.js'
import { parseContentId } from '../src/core/content/content-id.js'
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
  /** Measured inside the child, from before its first dial to the last byte (module loading and exit excluded). */
  ms: number
  /** From spawning the process to its exit, as seen by this process. */
  wallMs?: number
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

interface SeederHandle {
  addr: string
  itemUrl: string
  stop: () => Promise<void>
}

/**
 * The origin seeder (libp2p + web seed) plus the raw-stream handler, serving
 * `storeDir`. By default in a child process started with SWARMCDN_NODE_FLAGS,
 * as `swarmcdn seed` runs (the bench process's own heap, 1 GiB of publishing
 * behind it, then does not slow the seeder's GC); in this process with
 * SWARMCDN_BENCH_SEEDER_IN_PROCESS=1, as the bench did before.
 */
async function startSeeder (storeDir: string, contentId: string, lengthBytes: number): Promise<SeederHandle> {
  if (process.env.SWARMCDN_BENCH_SEEDER_IN_PROCESS === '1') return await serve(storeDir, contentId, lengthBytes)
  const p = spawn(process.execPath, [...SWARMCDN_NODE_FLAGS, fileURLToPath(import.meta.url), '--seeder', storeDir, contentId, String(lengthBytes)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<void>(resolve => { p.on('exit', () => { resolve() }) })
  const line = await new Promise<string>((resolve, reject) => {
    let out = ''
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('\n')) resolve(out.split('\n')[0]) })
    p.on('exit', code => { reject(new Error(`seeder exited ${code} before it was ready`)) })
  })
  const { addr, itemUrl } = JSON.parse(line) as { addr: string, itemUrl: string }
  // Closing its stdin stops the child; SIGKILL after a bounded wait.
  return { addr, itemUrl, stop: async () => { p.stdin.end(); const t = setTimeout(() => p.kill('SIGKILL'), 10_000); await exited; clearTimeout(t) } }
}

async function serve (storeDir: string, contentId: string, lengthBytes: number): Promise<SeederHandle> {
  const store = await ContentStore.open(storeDir)
  const seeder = await startOriginSeeder({ store, listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'], http: { host: '127.0.0.1', port: 0 } })
  await seeder.node.handle(RAW_PROTOCOL, async (stream: Stream) => {
    const data = await open(store.dataPath(parseContentId(contentId)), 'r')
    const readAt = async (off: number): Promise<Uint8Array> => {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, lengthBytes - off))
      const { bytesRead } = await data.read(chunk, 0, chunk.length, off)
      if (bytesRead !== chunk.length) throw new Error('short read of the bench item')
      return chunk
    }
    try {
      // One read ahead, so the baseline's sender is never waiting on the disk (the xfer server has several pieces in flight).
      let next = readAt(0)
      for (let off = 0; off < lengthBytes; off += CHUNK_BYTES) {
        const chunk = await next
        if (off + CHUNK_BYTES < lengthBytes) next = readAt(off + CHUNK_BYTES)
        if (!stream.send(chunk)) await stream.onDrain({ signal: AbortSignal.timeout(60_000) })
      }
      await stream.close()
    } finally {
      await data.close()
    }
  })
  return { addr: seeder.multiaddrs[0], itemUrl: `${seeder.httpUrl!}/c/${contentId}`, stop: async () => { await seeder.stop(); await store.close() } }
}

/** V8 flags of the client processes: SWARMCDN_NODE_FLAGS, or none with SWARMCDN_BENCH_DEFAULT_FLAGS=1 (to see their effect). */
const nodeFlags = [...(process.env.SWARMCDN_BENCH_DEFAULT_FLAGS === '1' ? [] : SWARMCDN_NODE_FLAGS),
  // e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof' to profile every client
  ...(process.env.SWARMCDN_BENCH_CLIENT_EXTRA_FLAGS ?? '').split(' ').filter(f => f !== '')]

/** An older build's bench script whose swarmcdn client runs in every round too (SWARMCDN_BENCH_COMPARE), for before/after under the same load. */
const compareScript = process.env.SWARMCDN_BENCH_COMPARE
/** Another build's bin/swarmcdn.js (anywhere: it runs its own dist/, as a command, so with its own node flags): its whole `get --peer` and `get --web-seed` run in every round too, before this build's in even rounds, after them in odd ones (SWARMCDN_BENCH_COMPARE_LAUNCHER). */
const compareLauncher = process.env.SWARMCDN_BENCH_COMPARE_LAUNCHER

async function runChild (args: string[], script = fileURLToPath(import.meta.url)): Promise<ClientReport> {
  return await new Promise((resolve, reject) => {
    // Every client runs with the V8 flags `swarmcdn` itself runs with (bin/swarmcdn.js), baselines included.
    const t0 = performance.now()
    const p = spawn(process.execPath, [...nodeFlags, script, '--child', ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    p.stdout.on('data', (d: Buffer) => { out += d.toString() })
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`${args[0]} client timed out`)) }, BENCH_RUN_TIMEOUT_MS)
    p.on('exit', code => {
      clearTimeout(timer)
      if (code !== 0) { reject(new Error(`${args[0]} client exited ${code}`)); return }
      resolve({ ...JSON.parse(out.trim().split('\n').pop()!) as ClientReport, wallMs: performance.now() - t0 })
    })
  })
}

/** Issue 18's bound on a client's peak RSS for any item size, MiB: each round's whole `get` is checked against it. */
const CLIENT_PEAK_RSS_GOAL_MIB = 100

const GNU_TIME = '/usr/bin/time'
const hasGnuTime = existsSync(GNU_TIME)
const LAUNCHER = fileURLToPath(new URL('../../bin/swarmcdn.js', import.meta.url))

/**
 * Runs a whole command (`argv`), which must leave `bytes` bytes in `out`;
 * timed from spawn to exit. Under /usr/bin/time when present, for the
 * command's own CPU time and peak RSS (NaN without it).
 */
async function runCommand (mode: string, argv: string[], out: string, bytes: number): Promise<ClientReport> {
  const marker = 'SWARMCDN_BENCH_TIME'
  const full = hasGnuTime ? [GNU_TIME, '-f', `${marker} %U %S %M`, ...argv] : argv
  return await new Promise((resolve, reject) => {
    const t0 = performance.now()
    const p = spawn(full[0], full.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    p.stderr.on('data', (d: Buffer) => { err += d.toString() })
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`${mode} timed out`)) }, BENCH_RUN_TIMEOUT_MS)
    p.on('exit', code => {
      const wallMs = performance.now() - t0
      clearTimeout(timer)
      if (code !== 0) { reject(new Error(`${mode} exited ${String(code)}: ${err.trim()}`)); return }
      const size = statSync(out, { throwIfNoEntry: false })?.size
      if (size !== bytes) { reject(new Error(`${mode} left ${String(size)} bytes in ${out}, expected ${bytes}`)); return }
      const m = new RegExp(`${marker} ([\\d.]+) ([\\d.]+) (\\d+)`).exec(err)
      const cpuMs = m == null ? Number.NaN : (Number(m[1]) + Number(m[2])) * 1000
      const rssMiB = m == null ? Number.NaN : Number(m[3]) / 1024
      resolve({ mode, bytes, ms: wallMs, wallMs, cpuMs, maxRssMiB: rssMiB, ruMaxRssMiB: rssMiB })
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
    await store.close()
    const seeder = await startSeeder(join(dir, 'store'), manifest.contentId, manifest.lengthBytes)
    const { addr, itemUrl } = seeder
    const out = join(dir, 'out.bin')
    const mibps = (r: ClientReport): number => r.bytes / 1048576 / (r.ms / 1000)
    const row = (name: string, r: ClientReport): string =>
      `| ${name} | ${mibps(r).toFixed(1)} | ${(r.cpuMs / 1000).toFixed(2)} | ${r.maxRssMiB.toFixed(0)} |`
    const results: Array<{ raw: ClientReport, swarm: ClientReport, http: ClientReport, before?: ClientReport, command?: ClientReport, commandWebSeed?: ClientReport, curl?: ClientReport, compared?: { command: ClientReport, commandWebSeed: ClientReport } }> = []
    const withCommands = process.env.SWARMCDN_BENCH_NO_COMMANDS !== '1'
    const hasCurl = withCommands && spawnSync('curl', ['--version']).status === 0
    /** Throughput over the whole process, spawn to exit. */
    const wallMibps = (r: ClientReport): number => r.bytes / 1048576 / ((r.wallMs ?? r.ms) / 1000)
    console.log(`item: ${sizeMiB} MiB, ${manifest.pieceCount} pieces of ${PIECE_SIZE_BYTES / 1048576} MiB, loopback, client in a child process with flags [${nodeFlags.join(' ')}], seeder ${process.env.SWARMCDN_BENCH_SEEDER_IN_PROCESS === '1' ? 'in the bench process' : `in a child process with flags [${SWARMCDN_NODE_FLAGS.join(' ')}]`}, ${rounds} round(s)`)
    console.log('| round | client | MiB/s | client CPU s | client peak RSS (VmHWM) MiB |')
    console.log('| --- | --- | --- | --- | --- |')
    for (let k = 1; k <= rounds; k++) {
      const raw = await runChild(['raw', addr, manifest.contentId, out])
      await rm(out, { force: true })
      // The compared build runs right before this build in even rounds, right after it in odd ones.
      const runBefore = async (): Promise<ClientReport | undefined> => {
        if (compareScript == null) return undefined
        const r = await runChild(['swarm', addr, manifest.contentId, out], compareScript)
        await rm(out, { force: true })
        return r
      }
      let before = k % 2 === 0 ? await runBefore() : undefined
      const swarm = await runChild(['swarm', addr, manifest.contentId, out])
      await rm(out, { force: true })
      if (k % 2 === 1) before = await runBefore()
      const http = await runChild(['http', itemUrl, manifest.contentId, out])
      await rm(out, { force: true })
      let command: ClientReport | undefined
      let commandWebSeed: ClientReport | undefined
      let curl: ClientReport | undefined
      let compared: { command: ClientReport, commandWebSeed: ClientReport } | undefined
      if (withCommands) {
        // This build runs on this node with nodeFlags (SWARMCDN_BENCH_CLIENT_EXTRA_FLAGS can profile it); another
        // build's launcher runs as a command, so with the node and the V8 flags its own shell line names.
        const getCommands = async (launcher: string): Promise<{ command: ClientReport, commandWebSeed: ClientReport }> => {
          const start = launcher === LAUNCHER ? [process.execPath, ...nodeFlags, launcher] : [launcher]
          const command = await runCommand('swarmcdn get', [...start, 'get', manifest.contentId, '--peer', addr, '-o', out], out, manifest.lengthBytes)
          await rm(out, { force: true })
          const commandWebSeed = await runCommand('swarmcdn get --web-seed', [...start, 'get', manifest.contentId, '--web-seed', itemUrl, '-o', out], out, manifest.lengthBytes)
          await rm(out, { force: true })
          return { command, commandWebSeed }
        }
        if (compareLauncher != null && k % 2 === 0) compared = await getCommands(compareLauncher)
        ;({ command, commandWebSeed } = await getCommands(LAUNCHER))
        if (compareLauncher != null && k % 2 === 1) compared = await getCommands(compareLauncher)
        if (hasCurl) {
          curl = await runCommand('curl', ['curl', '-sf', '-o', out, itemUrl], out, manifest.lengthBytes)
          await rm(out, { force: true })
        }
      }
      results.push({ raw, swarm, http, before, command, commandWebSeed, curl, compared })
      console.log(`| ${k} ${row('raw libp2p stream (baseline)', raw).slice(2)}`)
      console.log(`| ${k} ${row('swarmcdn get (verify + write to disk)', swarm).slice(2)}`)
      console.log(`| ${k} ${row('HTTP web seed, node:http to disk (baseline)', http).slice(2)}`)
      if (before != null) console.log(`| ${k} ${row(`swarmcdn get, compared build (${compareScript!})`, before).slice(2)}`)
      const wallRow = (name: string, r: ClientReport): string => `| ${k} | ${name} | ${wallMibps(r).toFixed(1)} | ${(r.cpuMs / 1000).toFixed(2)} | ${r.maxRssMiB.toFixed(0)} |`
      if (command != null) {
        console.log(wallRow('whole process: raw libp2p stream child, spawn to exit (baseline)', raw))
        console.log(wallRow('whole command: swarmcdn get (bin/swarmcdn.js), spawn to exit', command))
        if (commandWebSeed != null) console.log(wallRow('whole command: swarmcdn get --web-seed (HTTP), spawn to exit', commandWebSeed))
        if (curl != null) console.log(wallRow('whole command: curl from the web seed to disk (baseline)', curl))
        if (compared != null) {
          console.log(wallRow(`whole command: swarmcdn get, compared build (${compareLauncher!})`, compared.command))
          console.log(wallRow('whole command: swarmcdn get --web-seed, compared build', compared.commandWebSeed))
        }
      }
    }
    await seeder.stop()
    for (const [k, { raw, swarm, http, before }] of results.entries()) {
      console.log(`round ${k + 1}: swarmcdn/raw ${(mibps(swarm) / mibps(raw) * 100).toFixed(0)}% (target >= 70%), ` +
        `swarmcdn/HTTP ${(mibps(swarm) / mibps(http) * 100).toFixed(0)}%, HTTP/raw ${(mibps(http) / mibps(raw) * 100).toFixed(0)}%; ` +
        `swarmcdn client peak RSS ${swarm.maxRssMiB.toFixed(0)} MiB (target < 200)` +
        (before == null ? '' : `; compared build: ${(mibps(before) / mibps(raw) * 100).toFixed(0)}% of raw, this build / compared ${(mibps(swarm) / mibps(before)).toFixed(2)}x`))
    }
    for (const [k, { raw, http, command, commandWebSeed, curl }] of results.entries()) {
      if (command == null) continue
      // Peak RSS against the two readers that do least with the same bytes: the raw libp2p stream child (reads and drops) and the node:http child (writes to disk).
      console.log(`round ${k + 1} peak RSS: swarmcdn get ${command.maxRssMiB.toFixed(0)} MiB (goal < ${CLIENT_PEAK_RSS_GOAL_MIB}: ${command.maxRssMiB < CLIENT_PEAK_RSS_GOAL_MIB ? 'met' : 'NOT met'}), ${(command.maxRssMiB / raw.maxRssMiB).toFixed(2)}x the raw libp2p stream child's ${raw.maxRssMiB.toFixed(0)} MiB, ${(command.maxRssMiB / http.maxRssMiB).toFixed(2)}x the node:http child's ${http.maxRssMiB.toFixed(0)} MiB` +
        (commandWebSeed == null ? '' : `; get --web-seed ${commandWebSeed.maxRssMiB.toFixed(0)} MiB`) + (curl == null ? '' : `; curl ${curl.maxRssMiB.toFixed(0)} MiB`))
      if (commandWebSeed != null && curl != null) console.log(`round ${k + 1} whole commands over HTTP: swarmcdn get --web-seed ${(commandWebSeed.wallMs! / 1000).toFixed(2)} s = ${(wallMibps(commandWebSeed) / wallMibps(curl) * 100).toFixed(0)}% of curl's throughput (goal >= 90%), ${(wallMibps(commandWebSeed) / wallMibps(command) * 100).toFixed(0)}% of get over libp2p; CPU ${(commandWebSeed.cpuMs / 1000).toFixed(2)} s`)
      console.log(`round ${k + 1} whole commands: swarmcdn get ${(command.wallMs! / 1000).toFixed(2)} s = ${(wallMibps(command) / wallMibps(raw) * 100).toFixed(0)}% of the raw stream child's throughput spawn to exit (goal >= 90%), ${(wallMibps(command) / mibps(raw) * 100).toFixed(0)}% of the raw stream's transfer alone` +
        (curl == null ? '' : `, ${(wallMibps(command) / wallMibps(curl) * 100).toFixed(0)}% of curl's (goal >= 90%)`) +
        `; the in-process get's transfer alone (its own process, same round) took ${(results[k].swarm.ms / 1000).toFixed(2)} s; CPU ${(command.cpuMs / 1000).toFixed(2)} s (curl ${((curl?.cpuMs ?? Number.NaN) / 1000).toFixed(2)} s)`)
    }
    const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 }
    const withWhole = results.filter(r => r.command != null)
    if (withWhole.length > 0) {
      const pct = (xs: number[]): string => `${(median(xs) * 100).toFixed(0)}% (${xs.map(x => (x * 100).toFixed(0)).join(', ')})`
      console.log(`whole commands, median over rounds: get ${pct(withWhole.map(r => wallMibps(r.command!) / wallMibps(r.raw)))} of the raw stream child` +
        (withWhole[0].curl == null ? '' : `; get --web-seed ${pct(withWhole.map(r => wallMibps(r.commandWebSeed!) / wallMibps(r.curl!)))} of curl`) +
        (withWhole[0].compared == null ? '' : `; this build / compared build, wall time: get ${pct(withWhole.map(r => r.command!.wallMs! / r.compared!.command.wallMs!))}, get --web-seed ${pct(withWhole.map(r => r.commandWebSeed!.wallMs! / r.compared!.commandWebSeed.wallMs!))}`))
    }
    console.log(`median swarmcdn/raw ${(median(results.map(r => mibps(r.swarm) / mibps(r.raw))) * 100).toFixed(0)}%` +
      (compareScript == null ? '' : `, compared build ${(median(results.map(r => mibps(r.before!) / mibps(r.raw))) * 100).toFixed(0)}%`))
    console.log(JSON.stringify({ sizeMiB, rounds: results.map(r => ({ ...r, ratioRaw: mibps(r.swarm) / mibps(r.raw), ratioHttp: mibps(r.swarm) / mibps(r.http), ...(r.command == null ? {} : { commandRatioRaw: wallMibps(r.command) / wallMibps(r.raw), commandRssRatioRaw: r.command.maxRssMiB / r.raw.maxRssMiB, ...(r.curl == null ? {} : { commandRatioCurl: wallMibps(r.command) / wallMibps(r.curl), ...(r.commandWebSeed == null ? {} : { webSeedCommandRatioCurl: wallMibps(r.commandWebSeed) / wallMibps(r.curl) }) }) }) })) }))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === '--seeder') {
  const seeder = await serve(process.argv[3], process.argv[4], Number(process.argv[5]))
  process.stdout.write(JSON.stringify({ addr: seeder.addr, itemUrl: seeder.itemUrl }) + '\n')
  process.stdin.resume()
  await new Promise(resolve => process.stdin.on('end', resolve))
  await seeder.stop()
  process.exit(0)
} else if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4], process.argv[5], process.argv[6])
  process.exit(0)
} else {
  await main()
}
