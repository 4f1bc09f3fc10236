/**
 * What `seed --metrics` costs on the piece path: a whole `swarmcdn get`
 * (spawn to exit) against a seeder with --metrics (scraped every 200 ms
 * during the download, far more often than Prometheus would) and against
 * the same seeder without it, alternated round by round in one invocation
 * so both see the machine's load of the moment.
 *
 *   node_modules/.bin/node dist/bench/metrics-overhead.js [SIZE_MIB [ROUNDS [SCRAPE_MS]]]
 *   (SIZE_MIB default 64, ROUNDS default 5, SCRAPE_MS default 200; 0 = no
 *   scrapes during the gets, which isolates the piece path)
 *
 * At the end the seeder with metrics is scraped IDLE_SCRAPES times with
 * nothing else to do: its CPU time over them is what one scrape costs.
 *
 * Both seeders are `swarmcdn seed` processes on the same store; the ratio
 * is median(get with metrics) / median(get without). The seeder's own CPU
 * time during each get (user + system, from /proc/PID/stat, scrapes
 * included) is the finer measure: wall time on a shared machine mostly
 * measures the other jobs. Bounded: every child is killed after
 * RUN_TIMEOUT_MS.
 */
import { spawn } from 'node:child_process'
import { generateKeyPairSync, randomFillSync } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ContentStore } from '../src/store/content-store.js'
import { publishFile } from '../seeders/publish-file.js'

const CLI = fileURLToPath(new URL('../../bin/swarmcdn.js', import.meta.url))
const RUN_TIMEOUT_MS = 5 * 60_000

interface Seeder { addr: string, metrics?: string, pid: number, stop: () => void }

/** Clock ticks per second of /proc/PID/stat (USER_HZ: 100 on Linux). */
const USER_HZ = 100

/** CPU time (user + system) a process used so far, ms; undefined where /proc is not there. */
async function cpuMs (pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 1000 / USER_HZ
  } catch { return undefined }
}

async function startSeeder (store: string, metrics: boolean): Promise<Seeder> {
  const args = [CLI, 'seed', '--store', store, '--listen', '/ip4/127.0.0.1/tcp/0', '--prefix-table', 'loopback', '--json', ...(metrics ? ['--metrics', '127.0.0.1:0'] : [])]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS * 4)
  return await new Promise((resolve, reject) => {
    let buf = ''
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString()
      for (const line of buf.split('\n')) {
        if (!line.startsWith('{')) continue
        const e = JSON.parse(line) as { event: string, multiaddrs: string[], metrics?: string }
        if (e.event === 'listening') resolve({ addr: e.multiaddrs[0], metrics: e.metrics, pid: child.pid as number, stop: () => { clearTimeout(timer); child.kill('SIGINT') } })
      }
    })
    child.on('exit', code => { reject(new Error(`seeder exited ${String(code)}`)) })
  })
}

async function timedGet (id: string, addr: string, out: string): Promise<number> {
  const t0 = performance.now()
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'get', id, '--peer', addr, '--prefix-table', 'loopback', '-o', out, '--json'], { stdio: ['ignore', 'ignore', 'inherit'] })
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS)
    child.on('exit', code => { clearTimeout(timer); if (code === 0) resolve(); else reject(new Error(`get exited ${String(code)}`)) })
  })
  return performance.now() - t0
}

/** Scrapes of the idle seeder that measure one scrape's CPU time. */
const IDLE_SCRAPES = 200

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }

async function main (): Promise<void> {
  const sizeMiB = Number(process.argv[2] ?? 64)
  const rounds = Number(process.argv[3] ?? 5)
  const scrapeMs = Number(process.argv[4] ?? 200)
  const dir = await mkdtemp(join(tmpdir(), 'swarmcdn-bench-metrics-'))
  const seeders: Seeder[] = []
  try {
    const src = join(dir, 'item.bin')
    await writeFile(src, randomFillSync(Buffer.alloc(sizeMiB * 1024 * 1024)))
    const store = await ContentStore.open(join(dir, 'store'))
    const m = await publishFile(store, src, generateKeyPairSync('ed25519').privateKey, {})
    await store.close()
    const off = await startSeeder(join(dir, 'store'), false)
    seeders.push(off)
    const on = await startSeeder(join(dir, 'store'), true)
    seeders.push(on)
    const times = { on: [] as number[], off: [] as number[] }
    const cpu = { on: [] as number[], off: [] as number[] }
    let scrapes = 0
    for (let r = 0; r < rounds; r++) {
      // Alternate which goes first, so neither always gets the warmer cache.
      for (const which of r % 2 === 0 ? ['off', 'on'] as const : ['on', 'off'] as const) {
        const s = which === 'on' ? on : off
        const out = join(dir, `out-${which}-${r}.bin`)
        let scraping: ReturnType<typeof setInterval> | undefined
        if (s.metrics != null && scrapeMs > 0) scraping = setInterval(() => { void fetch(s.metrics as string).then(async res => { await res.text(); scrapes++ }, () => {}) }, scrapeMs)
        const cpuBefore = await cpuMs(s.pid)
        try { times[which].push(await timedGet(m.contentId, s.addr, out)) } finally { if (scraping != null) clearInterval(scraping) }
        const cpuAfter = await cpuMs(s.pid)
        if (cpuBefore !== undefined && cpuAfter !== undefined) cpu[which].push(cpuAfter - cpuBefore)
        await rm(out, { force: true })
      }
    }
    // Each round's two gets ran back to back: their ratio cancels most of the load that changes between rounds.
    const pairedWall = times.on.map((t, i) => t / times.off[i])
    const pairedCpu = cpu.on.map((t, i) => t / cpu.off[i]).filter(Number.isFinite)
    // One scrape's CPU at the seeder, with nothing else running there.
    const idleBefore = await cpuMs(on.pid)
    for (let i = 0; i < IDLE_SCRAPES; i++) await (await fetch(on.metrics as string)).text()
    const idleAfter = await cpuMs(on.pid)
    const cpuMsPerScrape = idleBefore !== undefined && idleAfter !== undefined ? Number(((idleAfter - idleBefore) / IDLE_SCRAPES).toFixed(2)) : null
    const mon = median(times.on)
    const moff = median(times.off)
    process.stdout.write(JSON.stringify({ bench: 'metrics-overhead', sizeMiB, rounds, scrapeMs, cpuMsPerScrape, medianGetMsMetricsOn: Math.round(mon), medianGetMsMetricsOff: Math.round(moff), ratioOnOverOff: Number((mon / moff).toFixed(3)), medianPairedWallRatio: Number(median(pairedWall).toFixed(3)), medianPairedSeederCpuRatio: pairedCpu.length > 0 ? Number(median(pairedCpu).toFixed(3)) : null, scrapes, medianSeederCpuMsMetricsOn: cpu.on.length > 0 ? median(cpu.on) : null, medianSeederCpuMsMetricsOff: cpu.off.length > 0 ? median(cpu.off) : null, seederCpuRatioOnOverOff: cpu.on.length > 0 ? Number((median(cpu.on) / median(cpu.off)).toFixed(3)) : null, seederCpuOnMs: cpu.on, seederCpuOffMs: cpu.off, onMs: times.on.map(Math.round), offMs: times.off.map(Math.round) }) + '\n')
  } finally {
    for (const s of seeders) s.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
