/**
 * Whole-command latency: `swarmcdn get` of a small item (1,000 bytes, one
 * piece) from a seeder on loopback, from process start to exit, and
 * `swarmcdn --help` and an argument error, each a fresh process, against
 * baselines in the same run: a bare `node -e 0` of the same runtime (what
 * no command can beat) and `curl` of the same item from the seeder's web
 * seed (what the user compared with). Also, same run: the same `get` from
 * tsc's unbundled output (what the bundle buys), the same `get` run as a
 * command (bin/swarmcdn.js executed: its shell line picks the Node, as for
 * an installed swarmcdn) and `asn 8.8.8.8` with the
 * prebuilt table block against the same table parsed from its CSVs.
 *
 *   node_modules/.bin/node dist/bench/command-start.js [--runs 15]
 *
 * Every command runs `--runs` times, interleaved (one of each, then the
 * next round), so the machine's load of the moment is shared; medians are
 * compared. The seeder is `swarmcdn seed` in its own process. V8's compile
 * cache goes to a fresh folder: the first `get` runs with it empty (a first
 * start after installing), the measured ones with it filled, as every
 * later start. SWARMCDN_BENCH_OLD_NODE=/usr/bin/node adds the installed
 * launcher's path on an older Node (it hands over to the bundled Node 24).
 */
import { spawn, spawnSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ContentStore } from '../src/store/content-store.js'
import { publishFile } from '../seeders/publish-file.js'
import { defaultPrefixTablePaths } from '../src/client/prefix-table-files.js'
import { SWARMCDN_NODE_FLAGS } from '../src/cli/node-flags.js'
import { benchArgs } from './bench-args.js'

const USAGE = 'usage: node dist/bench/command-start.js [--runs 15]'
const ITEM_BYTES = 1000
/** A single command run is killed after this long (a hung command must not hang the benchmark). */
const RUN_TIMEOUT_MS = 60_000
/** Targets from the issue, in ms. */
const TARGET_GET_MS = 300
const TARGET_HELP_MS = 150

const root = fileURLToPath(new URL('../../', import.meta.url))
const launcher = join(root, 'bin', 'swarmcdn.js')
const unbundled = join(root, 'dist', 'src', 'cli', 'main.js')

interface Command { name: string, argv: string[], before?: () => Promise<void>, exitCode?: number, env?: NodeJS.ProcessEnv }

/** Runs argv once; resolves with the wall time from spawn to exit, in ms. */
async function timeOnce (c: Command): Promise<number> {
  await c.before?.()
  return await new Promise((resolve, reject) => {
    const t0 = performance.now()
    const p = spawn(c.argv[0], c.argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...c.env } })
    let stderr = ''
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { p.kill('SIGKILL') }, RUN_TIMEOUT_MS)
    p.on('exit', code => {
      const ms = performance.now() - t0
      clearTimeout(timer)
      if (code !== (c.exitCode ?? 0)) reject(new Error(`${c.name}: exit ${String(code)}: ${stderr.trim()}`))
      else resolve(ms)
    })
  })
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 }

/** Starts `swarmcdn seed` on `storeDir`; resolves with its addresses and a stop function. */
async function startSeeder (storeDir: string, env: NodeJS.ProcessEnv): Promise<{ addr: string, http: string, stop: () => Promise<void> }> {
  const p = spawn(process.execPath, [...SWARMCDN_NODE_FLAGS, launcher, 'seed', '--store', storeDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--http', '127.0.0.1:0', '--json'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } })
  const exited = new Promise<void>(resolve => { p.on('exit', () => { resolve() }) })
  const listening = await new Promise<{ multiaddrs: string[], http: string }>((resolve, reject) => {
    let out = ''
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const line = out.split('\n').find(l => l.includes('"listening"'))
      if (line != null) resolve(JSON.parse(line) as { multiaddrs: string[], http: string })
    })
    p.on('exit', code => { reject(new Error(`seeder exited ${String(code)} before listening`)) })
  })
  const stop = async (): Promise<void> => {
    p.kill('SIGINT')
    const t = setTimeout(() => { p.kill('SIGKILL') }, 10_000)
    await exited
    clearTimeout(t)
  }
  return { addr: listening.multiaddrs[0], http: listening.http, stop }
}

async function main (): Promise<void> {
  const runs = benchArgs({ usage: USAGE, numbers: { runs: 15 } }).numbers.runs
  // After a tsc-only build the launcher runs tsc's output (bin/swarmcdn.js says why), and this would measure that.
  const mtime = (p: string): number => statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? 0
  if (mtime(join(root, 'dist', 'cli', 'main.js')) < mtime(unbundled)) throw new Error('the CLI bundle is older than tsc\'s output: run npm run build first')
  const dir = await mkdtemp(join(tmpdir(), 'swarmcdn-bench-start-'))
  let seeder: Awaited<ReturnType<typeof startSeeder>> | undefined
  try {
    const env = { NODE_COMPILE_CACHE: join(dir, 'compile-cache') }
    const source = join(dir, 'item.bin')
    await writeFile(source, randomBytes(ITEM_BYTES))
    const store = await ContentStore.open(join(dir, 'store'))
    const manifest = await publishFile(store, source, generateKeyPairSync('ed25519').privateKey)
    await store.close()
    seeder = await startSeeder(join(dir, 'store'), env)
    const out = join(dir, 'out.bin')
    const fresh = async (): Promise<void> => { await rm(out, { force: true }) }
    // The same CSVs under other names: the block is used for the default paths only.
    const csvs: string[] = []
    for (const [i, p] of defaultPrefixTablePaths().entries()) { const l = join(dir, `table-${i}.csv`); await symlink(p, l); csvs.push(l) }
    const node = process.execPath
    const swarmcdn = [node, ...SWARMCDN_NODE_FLAGS, launcher]
    const getArgs = ['get', manifest.contentId, '--peer', seeder.addr, '-o', out]
    const hasCurl = spawnSync('curl', ['--version']).status === 0
    const oldNode = process.env.SWARMCDN_BENCH_OLD_NODE
    const commands: Command[] = [
      { name: 'node -e 0 (baseline: runtime start)', argv: [node, '-e', '0'] },
      ...(hasCurl ? [{ name: 'curl from the web seed (baseline)', argv: ['curl', '-sf', '-o', out, `${seeder.http}/c/${manifest.contentId}`], before: fresh }] : []),
      { name: 'swarmcdn get 1 KB', argv: [...swarmcdn, ...getArgs], before: fresh, env },
      { name: 'swarmcdn get 1 KB, as a command (its shell line)', argv: [launcher, ...getArgs], before: fresh, env },
      { name: 'swarmcdn get 1 KB, tsc output unbundled', argv: [node, ...SWARMCDN_NODE_FLAGS, unbundled, ...getArgs], before: fresh, env },
      ...(oldNode != null ? [{ name: `swarmcdn get 1 KB, launcher on ${oldNode}`, argv: [oldNode, launcher, ...getArgs], before: fresh, env }] : []),
      { name: 'swarmcdn --help', argv: [...swarmcdn, '--help'], env },
      { name: 'swarmcdn get (argument error)', argv: [...swarmcdn, 'get', 'not-a-cid', '-o', out], exitCode: 1, env },
      { name: 'swarmcdn asn 8.8.8.8 (table block)', argv: [...swarmcdn, 'asn', '8.8.8.8'], env },
      { name: 'swarmcdn asn 8.8.8.8 (table CSVs)', argv: [...swarmcdn, 'asn', '8.8.8.8', '--table', csvs[0], '--table', csvs[1]], env }
    ]
    const firstGetMs = await timeOnce(commands.find(c => c.name === 'swarmcdn get 1 KB')!)
    for (const c of commands) await timeOnce(c) // warm-up: page cache, compile cache
    const times = new Map(commands.map(c => [c.name, [] as number[]]))
    for (let r = 0; r < runs; r++) for (const c of commands) times.get(c.name)!.push(await timeOnce(c))
    const med = (name: string): number => median(times.get(name)!)
    const base = med('node -e 0 (baseline: runtime start)')
    console.log(`${runs} runs each, interleaved; ${ITEM_BYTES}-byte item, seeder (swarmcdn seed) in its own process on loopback; node ${process.version}`)
    console.log('| command | median ms | min ms | max ms | vs node -e 0 |' + (hasCurl ? ' vs curl |' : ''))
    console.log('| --- | ---: | ---: | ---: | ---: |' + (hasCurl ? ' ---: |' : ''))
    for (const c of commands) {
      const t = times.get(c.name)!
      console.log(`| ${c.name} | ${med(c.name).toFixed(0)} | ${Math.min(...t).toFixed(0)} | ${Math.max(...t).toFixed(0)} | ${(med(c.name) / base).toFixed(1)}x |` +
        (hasCurl ? ` ${(med(c.name) / med('curl from the web seed (baseline)')).toFixed(1)}x |` : ''))
    }
    const get = med('swarmcdn get 1 KB')
    const help = med('swarmcdn --help')
    const argError = med('swarmcdn get (argument error)')
    console.log(`first get with an empty compile cache: ${firstGetMs.toFixed(0)} ms`)
    console.log(`cold get ${get.toFixed(0)} ms (target < ${TARGET_GET_MS}: ${get < TARGET_GET_MS ? 'met' : 'NOT met'}); ` +
      `--help ${help.toFixed(0)} ms, argument error ${argError.toFixed(0)} ms (target < ${TARGET_HELP_MS}: ${help < TARGET_HELP_MS && argError < TARGET_HELP_MS ? 'met' : 'NOT met'}); ` +
      `bundle vs unbundled get ${(med('swarmcdn get 1 KB, tsc output unbundled') / get).toFixed(2)}x faster; ` +
      `asn with the table block vs CSVs ${(med('swarmcdn asn 8.8.8.8 (table CSVs)') / med('swarmcdn asn 8.8.8.8 (table block)')).toFixed(1)}x faster`)
    console.log(JSON.stringify({ runs, firstGetMs, medians: Object.fromEntries(commands.map(c => [c.name, med(c.name)])) }))
  } finally {
    await seeder?.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
