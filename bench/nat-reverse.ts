/**
 * Peers behind real NATs (network namespaces, scripts/nat-net.sh; root):
 * how long a downloader takes from its start to its first direct (or
 * reverse) connection to a provider behind a NAT (through the provider's
 * relay, then the provider's reverse connection; or the port its router
 * maps by UPnP) against a provider on a public address, which connections
 * succeed by NAT kind (cone, symmetric, UPnP; downloaders behind NATs to
 * providers behind other NATs would need hole punching), and the
 * throughput of one large transfer over a reverse connection against a
 * direct one between public hosts, all in one invocation.
 *
 *   node_modules/.bin/node dist/bench/nat-reverse.js [--tries 20] [--punch-tries 5] [--size-mib 64] [--rounds 3]
 *
 * Network: p1 seeder (bootstrap, verifier), p2 p3 supernodes (relays),
 * p4 the public downloader, p5 a public provider; home 1 cone (h1a
 * provider, h1b downloader), home 2 symmetric (h2a provider, h2b
 * downloader), home 3 cone (h3a downloader), home 4 cone with miniupnpd
 * (h4a provider; left out when miniupnpd is not installed). The time to a
 * first connection is from spawning the `get` to its `source-connected`
 * line (a piece connection, direct or reverse). Every `get` names one
 * provider with `--peer` (its public address, or one relayed address) and
 * nothing else, so each time is that provider's alone: spawn to exit of a
 * whole process. Bounded: every child is killed after RUN_TIMEOUT_MS; the
 * network is removed on exit.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync, randomFillSync } from 'node:crypto'
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { ContentStore } from '../src/store/content-store.js'
import { publishFile } from '../seeders/publish-file.js'
import { parseBenchArgs } from './bench-args.js'

const CLI = fileURLToPath(new URL('../../bin/swarmcdn.js', import.meta.url))
const NAT_NET = fileURLToPath(new URL('../../scripts/nat-net.sh', import.meta.url))
const RUN_TIMEOUT_MS = 120_000
const USAGE = 'usage: nat-reverse.js [--tries N] [--punch-tries N] [--size-mib N] [--rounds N]   (root; Linux network namespaces)'

type Ev = Record<string, unknown>
interface Proc { child: ChildProcess, events: Ev[], waitFor: (match: (e: Ev) => boolean, timeoutMs: number) => Promise<Ev> }

const tag = `b${process.pid % 10000}`
const ns = (name: string): string[] => ['ip', 'netns', 'exec', `swn-${tag}-${name}`]
const procs: ChildProcess[] = []

function start (where: string, args: string[]): Proc {
  const argv = [...ns(where), process.execPath, CLI, ...args, '--json']
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] })
  procs.push(child)
  const events: Ev[] = []
  const waiters = new Set<() => void>()
  createInterface({ input: child.stdout as Readable }).on('line', line => {
    if (line.startsWith('{')) { try { events.push(JSON.parse(line) as Ev) } catch {} }
    for (const w of waiters) w()
  })
  return {
    child,
    events,
    waitFor: async (match, timeoutMs) => await new Promise((resolve, reject) => {
      const check = (): void => { const e = events.find(match); if (e != null) { done(); resolve(e) } }
      const timer = setTimeout(() => { done(); reject(new Error(`no matching event from ${args[0]} on ${where} in ${timeoutMs} ms`)) }, timeoutMs)
      const done = (): void => { clearTimeout(timer); waiters.delete(check) }
      waiters.add(check)
      check()
    })
  }
}

/** One `get` from `where`, naming only `peer`: wall time, time to its first piece connection (and its kind), whether it completed, and its done event. */
async function timedGet (where: string, id: string, peer: string, out: string): Promise<{ ms: number, connectMs?: number, connectKind?: string, ok: boolean, done?: Ev }> {
  const t0 = performance.now()
  const p = start(where, ['get', id, '--peer', peer, '-o', out, '--listen', '/ip4/0.0.0.0/tcp/0', '--force'])
  let connectMs: number | undefined
  let connectKind: string | undefined
  // Stamped when the line arrives: the process's own start is part of a user's wait.
  void p.waitFor(e => e.event === 'source-connected' && e.connectionKind !== 'relayed', RUN_TIMEOUT_MS).then(e => { connectMs = performance.now() - t0; connectKind = String(e.connectionKind) }, () => {})
  const timer = setTimeout(() => p.child.kill('SIGKILL'), RUN_TIMEOUT_MS)
  const code = await new Promise<number | null>(resolve => p.child.on('exit', c => { resolve(c) }))
  clearTimeout(timer)
  const done = p.events.find(e => e.event === 'done')
  return { ms: performance.now() - t0, connectMs, connectKind, ok: code === 0 && done != null, done }
}

const pct = (xs: number[], q: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))] }
const round = (x: number): number => Math.round(x)

async function main (): Promise<void> {
  const args = parseBenchArgs({ usage: USAGE, numbers: { tries: 20, 'punch-tries': 5, 'size-mib': 64, rounds: 3 } }, process.argv.slice(2))
  if (args.help) { console.log(USAGE); return }
  const tries = args.numbers.tries
  const punchTries = args.numbers['punch-tries']
  try { execFileSync('bash', [NAT_NET, 'check'], { stdio: 'pipe' }) } catch (err) {
    console.log(`skipped: ${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()}`)
    return
  }
  const dir = await mkdtemp(join(tmpdir(), 'swarmcdn-bench-nat-'))
  const down = (): void => { try { execFileSync('bash', [NAT_NET, 'down', tag], { stdio: 'ignore' }) } catch {} }
  process.once('exit', down)
  try {
    const key = generateKeyPairSync('ed25519').privateKey
    const store = await ContentStore.open(join(dir, 'store'))
    await writeFile(join(dir, 'small.bin'), randomFillSync(Buffer.alloc(256 * 1024)))
    await writeFile(join(dir, 'large.bin'), randomFillSync(Buffer.alloc(args.numbers['size-mib'] * 1024 * 1024)))
    const small = (await publishFile(store, join(dir, 'small.bin'), key, { pieceSizeBytes: 256 * 1024 })).contentId
    const large = (await publishFile(store, join(dir, 'large.bin'), key, {})).contentId
    await store.close()
    const upnp = (() => { try { execFileSync('bash', ['-c', 'command -v miniupnpd'], { stdio: 'ignore' }); return true } catch { return false } })()
    execFileSync('bash', [NAT_NET, 'up', tag, 'cone', 'symmetric', 'cone', ...(upnp ? ['upnp'] : [])], { env: { ...process.env, NAT_NET_PUBLIC_HOSTS: '5' }, stdio: 'ignore' })

    const listen = ['--listen', '/ip4/0.0.0.0/tcp/4001']
    const seeder = start('p1', ['seed', '--store', join(dir, 'store'), ...listen])
    const seederId = String((await seeder.waitFor(e => e.event === 'listening', 30_000)).peerId)
    const bootstrap = ['--bootstrap', `/ip4/11.0.1.10/tcp/4001/p2p/${seederId}`]
    for (const h of ['p2', 'p3']) await start(h, ['peer', '--role', 'supernode', ...listen, ...bootstrap]).waitFor(e => e.event === 'listening', 30_000)
    const provider = async (h: string): Promise<{ id: string, relayed?: string, mapped?: string }> => {
      const s = join(dir, `store-${h}`)
      await cp(join(dir, 'store'), s, { recursive: true })
      const p = start(h, ['peer', '--role', 'leaf', '--store', s, ...listen, ...bootstrap])
      const id = String((await p.waitFor(e => e.event === 'listening', 30_000)).peerId)
      if (h.startsWith('p')) return { id }
      // Behind the UPnP router: the mapped port, once two verifier networks confirmed it.
      if (h === 'h4a') {
        const r = await p.waitFor(e => e.event === 'reachability:changed' && e.reachability === 'public', 90_000)
        return { id, mapped: `${(r.confirmedAddrs as string[])[0]}/p2p/${id}` }
      }
      const r = await p.waitFor(e => e.event === 'relay:reserved', 90_000)
      return { id, relayed: (r.addrs as string[])[0] }
    }
    const pub = await provider('p5')
    const cone = await provider('h1a')
    const sym = await provider('h2a')
    const mapped = upnp ? await provider('h4a') : undefined
    const targets = [
      { name: 'public provider (direct)', addr: `/ip4/15.0.5.10/tcp/4001/p2p/${pub.id}` },
      { name: 'cone-NAT provider (relay, then reverse)', addr: cone.relayed! },
      { name: 'symmetric-NAT provider (relay, then reverse)', addr: sym.relayed! },
      ...(mapped != null ? [{ name: 'UPnP-NAT provider (mapped port, direct)', addr: mapped.mapped! }] : [])
    ]

    // 1. Time to a direct connection and a one-piece item, from the public downloader.
    const times = new Map<string, number[]>(targets.map(t => [t.name, []]))
    const connects = new Map<string, number[]>(targets.map(t => [t.name, []]))
    const kinds = new Map<string, Map<string, number>>(targets.map(t => [t.name, new Map()]))
    const failed = new Map<string, number>(targets.map(t => [t.name, 0]))
    for (let r = 0; r < tries; r++) {
      for (let k = 0; k < targets.length; k++) {
        const t = targets[(r + k) % targets.length]
        const g = await timedGet('p4', small, t.addr, join(dir, `s-${r}-${k}.bin`))
        // A failed try is counted (its connection kind shows 'none' or what it got), not timed.
        if (!g.ok) failed.set(t.name, failed.get(t.name)! + 1)
        else times.get(t.name)!.push(g.ms)
        if (g.connectMs !== undefined) connects.get(t.name)!.push(g.connectMs)
        const kk = kinds.get(t.name)!
        kk.set(g.connectKind ?? 'none', (kk.get(g.connectKind ?? 'none') ?? 0) + 1)
      }
    }
    const base = pct(times.get(targets[0].name)!, 0.5)
    const baseConnect = pct(connects.get(targets[0].name)!, 0.5)
    console.log(`\n1. one-piece get from p4 (public), ${tries} tries each, interleaved: spawn to the first direct or reverse piece connection, and spawn to exit`)
    console.log('| provider | connected | get completed | first connection p50 ms | p95 ms | p50 / public p50 | get p50 ms | get p95 ms | get p50 / public p50 |')
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    for (const t of targets) {
      const xs = times.get(t.name)!
      const cs = connects.get(t.name)!
      const how = [...kinds.get(t.name)!].map(([k, n]) => `${n}/${tries} ${k}`).join(', ')
      console.log(`| ${t.name} | ${how} | ${tries - failed.get(t.name)!}/${tries} | ${round(pct(cs, 0.5))} | ${round(pct(cs, 0.95))} | ${(pct(cs, 0.5) / baseConnect).toFixed(2)} | ${round(pct(xs, 0.5))} | ${round(pct(xs, 0.95))} | ${(pct(xs, 0.5) / base).toFixed(2)} |`)
    }

    // 2. Downloaders behind NATs to providers behind other NATs: does any direct connection come?
    const pairs = [
      { name: 'cone -> cone (h3a -> h1a)', from: 'h3a', addr: cone.relayed! },
      { name: 'symmetric -> cone (h2b -> h1a)', from: 'h2b', addr: cone.relayed! },
      { name: 'cone -> symmetric (h1b -> h2a)', from: 'h1b', addr: sym.relayed! },
      ...(mapped != null ? [{ name: 'cone -> UPnP (h3a -> h4a)', from: 'h3a', addr: mapped.mapped! }, { name: 'symmetric -> UPnP (h2b -> h4a)', from: 'h2b', addr: mapped.mapped! }] : [])
    ]
    console.log(`\n2. NATed downloader to a provider behind another NAT, ${punchTries} tries each (the provider is the only source)`)
    console.log('| pair | completed | connection | median ms to give up or finish |')
    console.log('| --- | --- | --- | --- |')
    for (const p of pairs) {
      const xs: number[] = []
      let ok = 0
      const kk = new Map<string, number>()
      for (let r = 0; r < punchTries; r++) {
        const g = await timedGet(p.from, small, p.addr, join(dir, `p-${p.from}-${r}.bin`))
        xs.push(g.ms)
        if (g.ok) ok++
        kk.set(g.connectKind ?? 'none', (kk.get(g.connectKind ?? 'none') ?? 0) + 1)
      }
      console.log(`| ${p.name} | ${ok}/${punchTries} | ${[...kk].map(([k, n]) => `${n} ${k}`).join(', ')} | ${round(pct(xs, 0.5))} |`)
    }

    // 3. Throughput of one large item: reverse connection through a cone NAT vs direct between public hosts.
    const big = { direct: [] as number[], reverse: [] as number[] }
    for (let r = 0; r < args.numbers.rounds; r++) {
      for (const which of r % 2 === 0 ? ['direct', 'reverse'] as const : ['reverse', 'direct'] as const) {
        const g = await timedGet('p4', large, which === 'direct' ? targets[0].addr : cone.relayed!, join(dir, `l-${which}-${r}.bin`))
        if (!g.ok) throw new Error(`large get (${which}) failed`)
        big[which].push(g.ms)
      }
    }
    const mib = args.numbers['size-mib']
    const d = pct(big.direct, 0.5)
    const v = pct(big.reverse, 0.5)
    console.log(`\n3. ${mib} MiB get from p4, spawn to exit, ${args.numbers.rounds} rounds alternated`)
    console.log('| source | median s | MiB/s | ratio to direct |')
    console.log('| --- | --- | --- | --- |')
    console.log(`| public provider, direct | ${(d / 1000).toFixed(2)} | ${(mib / (d / 1000)).toFixed(1)} | 1.00 |`)
    console.log(`| cone-NAT provider, reverse connection | ${(v / 1000).toFixed(2)} | ${(mib / (v / 1000)).toFixed(1)} | ${(d / v).toFixed(2)} |`)
  } finally {
    for (const c of procs) c.kill('SIGKILL')
    down()
    process.removeListener('exit', down)
    await rm(dir, { recursive: true, force: true })
  }
}

main().catch(err => { console.error(err); process.exitCode = 1 })
