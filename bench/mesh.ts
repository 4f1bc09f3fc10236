/**
 * The 1 -> 8 mesh against WebTorrent (issue 18): one seeder and N
 * downloaders (default 8), every one its own process on its own loopback
 * address, one item (default 256 MiB of random bytes), first with swarmcdn
 * and then with WebTorrent (alternating which goes first), several rounds,
 * each round's numbers as ratios swarmcdn / WebTorrent.
 *
 *   npm run build && node_modules/.bin/node dist/bench/mesh.js [--size-mib 256] [--downloaders 8] [--rounds 3] [--run-timeout-s 180]
 *
 * swarmcdn: `swarmcdn seed` (127.11.0.1, its --metrics endpoint read for
 * the bytes it served) and N `swarmcdn get ID --bootstrap SEEDER --listen
 * /ip4/127.12.I.1/tcp/0 --seed --json`: the downloaders find the item and
 * each other only through the overlay, and serve verified pieces while
 * they download. Each process is `node --max-semi-space-size=2
 * bin/swarmcdn.js`, what the installed command runs, with its default
 * AS tables. The item is published with the default piece size.
 *
 * WebTorrent (3.0.21, bench/mesh-webtorrent.ts): a seeder (127.21.0.1) and
 * N downloaders (127.22.I.1) started from the info-hash-only magnet link;
 * no trackers, DHT or local discovery: as each downloader listens, it is
 * given the seeder's and the earlier downloaders' addresses (what a
 * tracker would answer), so every pair can connect. Its defaults
 * otherwise (piece size from create-torrent, peer exchange on).
 *
 * Both seeders are started, and have hashed the item, before the clock
 * starts; the clock starts when the downloaders are spawned. Every
 * downloader keeps serving after its download is done (`get --seed`; a
 * WebTorrent client seeds until destroyed) until the last one is done;
 * then all are stopped. Reported per run: the time from the spawn to the
 * last download done (the item complete on disk), each downloader's time,
 * the seeder's upload in copies of the item, CPU per downloader (user +
 * system from /proc when its download was done), and time to the manifest
 * (swarmcdn) or metadata (WebTorrent). Per round: swarmcdn / WebTorrent.
 *
 * Bounded: a run that has not finished after --run-timeout-s is killed
 * and reported as failed (the next run goes on; the exit status is 1).
 * Every process is killed and the temporary folder removed on exit,
 * failure, SIGINT and SIGTERM.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync, randomFillSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, open, rm, stat } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { ContentStore } from '../src/store/content-store.js'
import { publishFile } from '../seeders/publish-file.js'
import { SWARMCDN_NODE_FLAGS } from '../src/cli/node-flags.js'
import { PEER_METRICS } from '../src/client/peer-metrics.js'
import { benchArgs } from './bench-args.js'

const USAGE = `usage: node dist/bench/mesh.js [--size-mib 256] [--downloaders 8] [--rounds 3] [--run-timeout-s 180]

One seeder and N downloaders, each its own process on loopback, one item:
swarmcdn (seed + get --seed through the overlay) against WebTorrent 3.0.21
(seeder + downloaders given each other's addresses), alternated, several
rounds; per round the ratios swarmcdn / WebTorrent of the last download's
time, the seeder's upload and the CPU per downloader.

--trace prints a line a second during swarmcdn runs (seeder upload in
copies, chokes, declined pieces, slots in use; each downloader's verified
share / active sources), and at the end every source a downloader gave up
on, with the reason; --swarmcdn-only skips WebTorrent (no ratios).`

/** A stopped process that does not exit within this is killed. */
const STOP_GRACE_MS = 10_000
/** A seeder must be listening (item hashed) within this. */
const SEEDER_READY_MS = 120_000

const root = fileURLToPath(new URL('../../', import.meta.url))
const launcher = join(root, 'bin', 'swarmcdn.js')
const webtorrentChild = fileURLToPath(new URL('./mesh-webtorrent.js', import.meta.url))
const CLOCK_TICKS_PER_SEC = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100

/** Every process this benchmark started and has not seen exit: killed on any way out. */
const live = new Set<ChildProcess>()

function killAll (): void {
  for (const p of live) p.kill('SIGKILL')
}

/** User + system CPU seconds of a live process, from /proc (Linux). */
function cpuSecondsOf (pid: number | undefined): number {
  if (pid == null) return NaN
  try {
    const statLine = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SEC
  } catch {
    return NaN
  }
}

type Event = Record<string, any> & { event: string }

/** A child speaking JSON lines on stdout, with its stderr kept for errors. */
class Child {
  readonly proc: ChildProcess
  readonly spawnedAtMs = performance.now()
  readonly exited: Promise<number | null>
  private readonly waiters: Array<{ match: (e: Event) => boolean, resolve: (e: Event) => void }> = []
  readonly events: Event[] = []
  private stderrTail = ''

  constructor (readonly name: string, argv: string[], onEvent?: (e: Event, c: Child) => void) {
    this.proc = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })
    live.add(this.proc)
    this.exited = new Promise(resolve => this.proc.once('exit', code => { live.delete(this.proc); resolve(code) }))
    this.proc.stdin?.on('error', () => {})
    this.proc.stderr?.on('data', (d: Buffer) => { this.stderrTail = (this.stderrTail + d.toString()).slice(-2000) })
    createInterface({ input: this.proc.stdout! }).on('line', line => {
      if (!line.startsWith('{')) return
      let e: Event
      try { e = JSON.parse(line) as Event } catch { return }
      e.atMs = performance.now()
      this.events.push(e)
      onEvent?.(e, this)
      for (const w of [...this.waiters]) if (w.match(e)) { this.waiters.splice(this.waiters.indexOf(w), 1); w.resolve(e) }
    })
  }

  /** Resolves with the first event `match` accepts (also one already seen); rejects when the process exits first. */
  async waitFor (match: (e: Event) => boolean, what: string): Promise<Event> {
    const seen = this.events.find(match)
    if (seen != null) return seen
    return await new Promise<Event>((resolve, reject) => {
      this.waiters.push({ match, resolve })
      void this.exited.then(code => reject(new Error(`${this.name} exited (${String(code)}) before ${what}: ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}`)))
    })
  }

  send (line: string): void { this.proc.stdin?.write(line + '\n') }

  /** Signals (or writes `stop` to stdin), waits for the exit, kills after STOP_GRACE_MS. */
  async stop (how: 'SIGTERM' | 'stdin'): Promise<void> {
    if (this.proc.exitCode != null || this.proc.signalCode != null) return
    if (how === 'stdin') this.send('stop')
    else this.proc.kill('SIGTERM')
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), STOP_GRACE_MS)
    await this.exited
    clearTimeout(timer)
  }
}

/** What one run (one system, one round) measured. */
interface RunResult {
  system: 'swarmcdn' | 'webtorrent'
  /** Spawn of the downloaders to the last download done, ms. */
  lastDoneMs: number
  /** Each downloader's spawn to its download done, ms, in downloader order. */
  doneMs: number[]
  /** Each downloader's spawn to its manifest (swarmcdn) or metadata (WebTorrent), ms. */
  manifestMs: number[]
  /** CPU seconds of each downloader when its download was done. */
  cpuSec: number[]
  seederUploadBytes: number
  seederCpuSec: number
  /** Bytes each downloader uploaded (to the other downloaders), when stopped. */
  downloaderUploadBytes: number[]
}

interface Setup { trace: boolean, dir: string, itemPath: string, storeDir: string, contentId: string, lengthBytes: number, downloaders: number, runTimeoutMs: number }

async function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no result within ${Math.round(ms / 1000)} s`)), ms) })
  try { return await Promise.race([p, t]) } finally { clearTimeout(timer) }
}

async function checkSize (path: string, lengthBytes: number): Promise<void> {
  const s = await stat(path)
  if (s.size !== lengthBytes) throw new Error(`${path} has ${s.size} bytes, expected ${lengthBytes}`)
}

async function runSwarmcdn (s: Setup, outDir: string, children: Child[]): Promise<RunResult> {
  const node = [process.execPath, ...SWARMCDN_NODE_FLAGS, launcher]
  const seeder = new Child('swarmcdn seed', [...node, 'seed', '--store', s.storeDir, '--listen', '/ip4/127.11.0.1/tcp/0', '--metrics', '127.11.0.1:0', '--json'])
  children.push(seeder)
  const listening = await withTimeout(seeder.waitFor(e => e.event === 'listening', 'listening'), SEEDER_READY_MS, 'swarmcdn seed')
  const bootstrap = (listening.multiaddrs as string[])[0]
  const metricsUrl = listening.metrics as string
  const t0 = performance.now()
  const cpuAtDone: number[] = []
  const downloaders: Child[] = []
  for (let i = 0; i < s.downloaders; i++) {
    const c = new Child(`swarmcdn get ${i}`, [...node, 'get', s.contentId, '--bootstrap', bootstrap, '--listen', `/ip4/127.12.${i + 1}.1/tcp/0`,
      '-o', join(outDir, `${i}.bin`), '--seed', '--json'], (e, c) => { if (e.event === 'done') cpuAtDone[i] = cpuSecondsOf(c.proc.pid) })
    downloaders.push(c)
    children.push(c)
  }
  const trace = s.trace ? setInterval(() => { void traceLine(t0, metricsUrl, downloaders, s.lengthBytes) }, 1000) : undefined
  const dones = await Promise.all(downloaders.map(async c => await c.waitFor(e => e.event === 'done', 'its download was done'))).finally(() => clearInterval(trace))
  const lastDoneMs = Math.max(...dones.map(e => e.atMs as number)) - t0
  for (let i = 0; i < s.downloaders; i++) await checkSize(join(outDir, `${i}.bin`), s.lengthBytes)
  if (s.trace) {
    // Why a downloader lost sources: every source it gave up on, when, and the reason.
    downloaders.forEach((c, i) => {
      for (const e of c.events.filter(e => e.event === 'source-error')) process.stdout.write(`  downloader ${i} t=${sec((e.atMs as number) - t0)}s source-error ${String(e.address).split('/').slice(2, 3).join('')}: ${String(e.error)}\n`)
    })
  }
  const served = metricSum(await (await fetch(metricsUrl)).text(), PEER_METRICS.servedBytes)
  const seederCpuSec = cpuSecondsOf(seeder.proc.pid)
  await Promise.all(downloaders.map(async c => await c.stop('SIGTERM')))
  await seeder.stop('SIGTERM')
  return {
    system: 'swarmcdn',
    lastDoneMs,
    doneMs: downloaders.map((c, i) => (dones[i].atMs as number) - c.spawnedAtMs),
    manifestMs: downloaders.map(c => ((c.events.find(e => e.event === 'manifest')?.atMs as number | undefined) ?? NaN) - c.spawnedAtMs),
    cpuSec: cpuAtDone,
    seederUploadBytes: served,
    seederCpuSec,
    downloaderUploadBytes: downloaders.map(c => Number(c.events.find(e => e.event === 'stopped')?.uploadedBytes ?? NaN))
  }
}

/** The sum of every series of one metric in a Prometheus text page. */
function metricSum (page: string, name: string): number {
  return [...page.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0)
}

/** --trace: one line a second of the seeder's counters and each downloader's verified share and sources. */
async function traceLine (t0: number, metricsUrl: string, downloaders: Child[], lengthBytes: number): Promise<void> {
  // A trace line is best effort: a busy seeder may reset the metrics request (an unhandled rejection ended the whole run).
  const page = await fetch(metricsUrl).then(async r => await r.text()).catch(() => '')
  const got = downloaders.map(c => {
    const p = c.events.findLast(e => e.event === 'progress' || e.event === 'done')
    if (p == null) return '  - '
    if (p.event === 'done') return ' done'
    return `${String(Math.round(100 * Number(p.verifiedBytes) / lengthBytes)).padStart(3)}%/${String(p.activeSources)}`
  })
  const m = (name: string): number => metricSum(page, name)
  process.stdout.write(`  t=${sec(performance.now() - t0)}s seeder up ${(m(PEER_METRICS.servedBytes) / lengthBytes).toFixed(2)} chokes ${m(PEER_METRICS.chokes)} declined ${m(PEER_METRICS.piecesDeclined)} slots ${m(PEER_METRICS.slotsInUse)}/${m(PEER_METRICS.requesters)} | ${got.join(' ')}\n`)
}

async function runWebtorrent (s: Setup, outDir: string, children: Child[]): Promise<RunResult> {
  const node = [process.execPath, webtorrentChild]
  const seederHost = '127.21.0.1'
  const seeder = new Child('webtorrent seed', [...node, 'seed', s.itemPath, seederHost])
  children.push(seeder)
  const listening = await withTimeout(seeder.waitFor(e => e.event === 'listening', 'listening'), SEEDER_READY_MS, 'webtorrent seed')
  const known = [`${seederHost}:${String(listening.port)}`]
  const t0 = performance.now()
  const cpuAtDone: number[] = []
  const downloaders: Child[] = []
  for (let i = 0; i < s.downloaders; i++) {
    const host = `127.22.${i + 1}.1`
    const c = new Child(`webtorrent get ${i}`, [...node, 'get', listening.magnet as string, join(outDir, String(i)), host], (e, c) => {
      if (e.event === 'listening') {
        // What a tracker would answer: everyone who announced before.
        c.send(JSON.stringify({ peers: known }))
        known.push(`${host}:${String(e.port)}`)
      }
      if (e.event === 'done') cpuAtDone[i] = cpuSecondsOf(c.proc.pid)
    })
    downloaders.push(c)
    children.push(c)
  }
  const dones = await Promise.all(downloaders.map(async c => await c.waitFor(e => e.event === 'done', 'its download was done')))
  const lastDoneMs = Math.max(...dones.map(e => e.atMs as number)) - t0
  // A single-file torrent is saved under the file's name.
  for (let i = 0; i < s.downloaders; i++) await checkSize(join(outDir, String(i), basename(s.itemPath)), s.lengthBytes)
  const seederCpuSec = cpuSecondsOf(seeder.proc.pid)
  await Promise.all(downloaders.map(async c => await c.stop('stdin')))
  await seeder.stop('stdin')
  return {
    system: 'webtorrent',
    lastDoneMs,
    doneMs: downloaders.map((c, i) => (dones[i].atMs as number) - c.spawnedAtMs),
    manifestMs: downloaders.map(c => ((c.events.find(e => e.event === 'metadata')?.atMs as number | undefined) ?? NaN) - c.spawnedAtMs),
    cpuSec: cpuAtDone,
    seederUploadBytes: Number(seeder.events.find(e => e.event === 'stopped')?.uploadedBytes ?? NaN),
    seederCpuSec,
    downloaderUploadBytes: downloaders.map(c => Number(c.events.find(e => e.event === 'stopped')?.uploadedBytes ?? NaN))
  }
}

async function runOnce (system: RunResult['system'], s: Setup, round: number): Promise<RunResult> {
  const outDir = join(s.dir, `${system}-${round}`)
  await mkdir(outDir, { recursive: true })
  const children: Child[] = []
  try {
    const run = system === 'swarmcdn' ? runSwarmcdn(s, outDir, children) : runWebtorrent(s, outDir, children)
    return await withTimeout(run, s.runTimeoutMs, `${system} round ${round}`)
  } finally {
    for (const c of children) c.proc.kill('SIGKILL')
    await Promise.all(children.map(async c => await c.exited))
    await rm(outDir, { recursive: true, force: true })
  }
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)
const mean = (xs: number[]): number => sum(xs) / xs.length
function median (xs: number[]): number {
  const v = xs.filter(x => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return NaN
  return v.length % 2 === 1 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2
}
const sec = (ms: number): string => (ms / 1000).toFixed(1)
const loadText = (): string => loadavg().map(l => l.toFixed(1)).join(' ')

function describe (r: RunResult, lengthBytes: number): string {
  return `${r.system.padEnd(10)} last done ${sec(r.lastDoneMs)} s; downloaders ${r.doneMs.map(sec).join(' ')} s; ` +
    `to ${r.system === 'swarmcdn' ? 'manifest' : 'metadata'} median ${sec(median(r.manifestMs))} s; ` +
    `seeder upload ${(r.seederUploadBytes / lengthBytes).toFixed(2)} copies (seeder CPU ${r.seederCpuSec.toFixed(1)} s); ` +
    `CPU per downloader ${mean(r.cpuSec).toFixed(2)} s; downloaders uploaded ${(sum(r.downloaderUploadBytes) / lengthBytes).toFixed(2)} copies`
}

interface Ratios { lastDone: number, medianDone: number, seederUpload: number, cpuPerDownloader: number }

function ratios (a: RunResult, b: RunResult): Ratios {
  return {
    lastDone: a.lastDoneMs / b.lastDoneMs,
    medianDone: median(a.doneMs) / median(b.doneMs),
    seederUpload: a.seederUploadBytes / b.seederUploadBytes,
    cpuPerDownloader: mean(a.cpuSec) / mean(b.cpuSec)
  }
}

async function writeRandomFile (path: string, sizeMiB: number): Promise<void> {
  const fh = await open(path, 'w')
  try {
    const chunk = new Uint8Array(1024 * 1024)
    for (let i = 0; i < sizeMiB; i++) { randomFillSync(chunk); await fh.write(chunk) }
  } finally {
    await fh.close()
  }
}

async function main (): Promise<void> {
  const args = benchArgs({ usage: USAGE, numbers: { 'size-mib': 256, downloaders: 8, rounds: 3, 'run-timeout-s': 180 }, flags: ['trace', 'swarmcdn-only'] })
  const sizeMiB = Math.round(args.numbers['size-mib'])
  const downloaders = Math.round(args.numbers.downloaders)
  const rounds = Math.round(args.numbers.rounds)
  if (downloaders > 200) throw new Error('--downloaders: at most 200 (one 127.x.I.1 address each)')
  const dir = await mkdtemp(join(tmpdir(), 'swarmcdn-bench-mesh-'))
  const cleanUp = async (): Promise<void> => { killAll(); await rm(dir, { recursive: true, force: true }) }
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { void cleanUp().finally(() => process.exit(130)) })
  let failed = 0
  try {
    const itemDir = join(dir, 'item')
    await mkdir(itemDir)
    const itemPath = join(itemDir, 'item.bin')
    await writeRandomFile(itemPath, sizeMiB)
    const storeDir = join(dir, 'store')
    const store = await ContentStore.open(storeDir)
    const manifest = await publishFile(store, itemPath, generateKeyPairSync('ed25519').privateKey)
    await store.close()
    const setup: Setup = { trace: args.flags.trace, dir, itemPath, storeDir, contentId: manifest.contentId, lengthBytes: manifest.lengthBytes, downloaders, runTimeoutMs: args.numbers['run-timeout-s'] * 1000 }
    process.stdout.write(`1 seeder -> ${downloaders} downloaders, ${sizeMiB} MiB item (swarmcdn pieces ${manifest.pieceSizeBytes / 1024} KiB), ${rounds} round(s), load average ${loadText()}\n`)
    const all: Ratios[] = []
    for (let round = 1; round <= rounds; round++) {
      const order: Array<RunResult['system']> = args.flags['swarmcdn-only'] ? ['swarmcdn'] : round % 2 === 1 ? ['swarmcdn', 'webtorrent'] : ['webtorrent', 'swarmcdn']
      const results: Partial<Record<RunResult['system'], RunResult>> = {}
      for (const system of order) {
        try {
          const r = await runOnce(system, setup, round)
          results[system] = r
          process.stdout.write(`round ${round} ${describe(r, manifest.lengthBytes)}\n`)
        } catch (err) {
          failed++
          process.stdout.write(`round ${round} ${system} FAILED: ${(err as Error).message}\n`)
        }
      }
      const a = results.swarmcdn
      const b = results.webtorrent
      if (a != null && b != null) {
        const r = ratios(a, b)
        all.push(r)
        process.stdout.write(`round ${round} swarmcdn/webtorrent: last download ${r.lastDone.toFixed(2)}x, median download ${r.medianDone.toFixed(2)}x, seeder upload ${r.seederUpload.toFixed(2)}x, CPU per downloader ${r.cpuPerDownloader.toFixed(2)}x (load average ${loadText()})\n`)
      }
    }
    if (all.length > 0) {
      const m = (k: keyof Ratios): string => median(all.map(r => r[k])).toFixed(2)
      process.stdout.write(`\nmedian of ${all.length} round(s), swarmcdn/webtorrent: last download ${m('lastDone')}x (target <= 1.00), seeder upload ${m('seederUpload')}x (target <= 0.30), median download ${m('medianDone')}x, CPU per downloader ${m('cpuPerDownloader')}x; load average ${loadText()}\n`)
    }
  } finally {
    await cleanUp()
  }
  if (failed > 0) process.exitCode = 1
}

await main()
