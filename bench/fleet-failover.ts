/**
 * What losing a fleet origin half-way costs a download: a whole `swarmcdn
 * get --fleet` (spawn to exit) from a fleet of three `swarmcdn seed`
 * processes, once with nothing failing (the baseline) and once with the
 * serving owner SIGKILLed when half the item is verified (it is restarted
 * between rounds), alternated round by round in one invocation.
 *
 *   node_modules/.bin/node dist/bench/fleet-failover.js [SIZE_MIB [ROUNDS [RATE_MIB]]]
 *   (SIZE_MIB default 8, ROUNDS default 3, RATE_MIB: each seeder's --upload-limit, default 4)
 *
 * Reports median elapsed with a kill / without, and the `lostMs` the
 * client reported (last piece before the fault → first piece from the
 * next owner). Bounded: every child is killed after RUN_TIMEOUT_MS.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { createServer } from 'node:net'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadOrCreateIdentity } from '../src/client/identity-file.js'
import { readFleetFile } from '../src/client/fleet-origins.js'
import { recordOriginOrder } from '../src/core/fleet/fleet-record.js'

const CLI = fileURLToPath(new URL('../../bin/swarmcdn.js', import.meta.url))
const RUN_TIMEOUT_MS = 5 * 60_000

async function freePort (host: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, host, () => { const port = (srv.address() as { port: number }).port; srv.close(() => { resolve(port) }) })
  })
}

/** Runs the CLI; resolves with its JSON events once it exits 0, calling onEvent for each as it comes. */
async function run (args: string[], onEvent: (e: Record<string, unknown>, child: ChildProcess) => void = () => {}): Promise<Array<Record<string, unknown>>> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS)
  const events: Array<Record<string, unknown>> = []
  createInterface({ input: child.stdout as Readable }).on('line', line => {
    if (!line.startsWith('{')) return
    const e = JSON.parse(line) as Record<string, unknown>
    events.push(e)
    onEvent(e, child)
  })
  return await new Promise((resolve, reject) => {
    child.on('exit', code => { clearTimeout(timer); if (code === 0) resolve(events); else reject(new Error(`swarmcdn ${args[0]} exited ${String(code)}`)) })
  })
}

/** A seed process; resolves once it listens. */
async function startSeed (args: string[]): Promise<ChildProcess> {
  return await new Promise((resolve, reject) => {
    let up = false
    run(args, (e, child) => { if (e.event === 'listening' && !up) { up = true; resolve(child) } }).catch(err => { if (!up) reject(err) })
  })
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }

async function main (): Promise<void> {
  const sizeMiB = Number(process.argv[2] ?? 8)
  const rounds = Number(process.argv[3] ?? 3)
  const rateMiB = Number(process.argv[4] ?? 4)
  const dir = await mkdtemp(join(tmpdir(), 'swarmcdn-bench-fleet-'))
  const seeds = new Map<number, ChildProcess>()
  try {
    await run(['keygen', '--out', join(dir, 'k')])
    const ids: string[] = []
    const addrs: string[] = []
    for (let i = 1; i <= 3; i++) {
      ids.push(peerIdFromPrivateKey((await loadOrCreateIdentity(join(dir, `s${i}.id`))).privateKey).toString())
      addrs.push(`/ip4/127.${i}.0.1/tcp/${await freePort(`127.${i}.0.1`)}`)
    }
    const fleet = join(dir, 'fleet.json')
    await run(['fleet', 'sign', '--key', join(dir, 'k'), '--sequence', '1', ...ids.flatMap((id, k) => ['--seeder', `${addrs[k]}/p2p/${id}`]), '--out', fleet, '--json'])
    const seedArgs = (i: number): string[] => ['seed', '--store', join(dir, `store${i}`), '--create-store', '--identity', join(dir, `s${i}.id`), '--listen', addrs[i - 1], '--fleet', fleet, '--upload-limit', `${rateMiB}MiB`, '--prefix-table', 'loopback', '--json']
    for (let i = 1; i <= 3; i++) seeds.set(i, await startSeed(seedArgs(i)))
    await writeFile(join(dir, 'item.bin'), randomFillSync(Buffer.alloc(sizeMiB * 1024 * 1024)))
    const pub = await run(['publish', join(dir, 'item.bin'), '--key', join(dir, 'k'), '--store', join(dir, 'master'), '--piece-size', '256KiB', '--fleet', fleet, '--json'])
    const id = pub.find(e => e.event === 'published')?.contentId as string
    const first = ids.indexOf(recordOriginOrder(await readFleetFile(fleet), id)[0].peerId) + 1
    const times = { kill: [] as number[], none: [] as number[] }
    const lost: number[] = []
    for (let r = 0; r < rounds; r++) {
      for (const which of r % 2 === 0 ? ['none', 'kill'] as const : ['kill', 'none'] as const) {
        const t0 = performance.now()
        let killed = false
        const events = await run(['get', id, '--fleet', fleet, '-o', join(dir, `out-${which}-${r}.bin`), '--listen', '/ip4/127.4.0.1/tcp/0', '--prefix-table', 'loopback', '--json'], e => {
          if (which === 'kill' && !killed && e.event === 'progress' && Number(e.verifiedBytes) >= sizeMiB * 1024 * 1024 / 2) { killed = true; seeds.get(first)?.kill('SIGKILL') }
        })
        times[which].push(performance.now() - t0)
        const done = events.find(e => e.event === 'done') as { failovers: Array<{ lostMs?: number }> }
        if (which === 'kill') {
          if (done.failovers.length !== 1 || done.failovers[0].lostMs === undefined) throw new Error(`expected one failover, got ${JSON.stringify(done.failovers)}`)
          lost.push(done.failovers[0].lostMs)
          seeds.set(first, await startSeed(seedArgs(first)))
        }
      }
    }
    const k = median(times.kill)
    const n = median(times.none)
    console.log(JSON.stringify({ sizeMiB, rounds, rateMiBPerSec: rateMiB, killMs: times.kill.map(Math.round), noneMs: times.none.map(Math.round), lostMs: lost, medianKillMs: Math.round(k), medianNoneMs: Math.round(n), ratio: Number((k / n).toFixed(3)), medianLostMs: median(lost) }))
  } finally {
    for (const c of seeds.values()) c.kill('SIGINT')
    await new Promise(resolve => setTimeout(resolve, 500))
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
