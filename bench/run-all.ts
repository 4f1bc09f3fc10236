/**
 * The quick benchmark set (`npm run bench`, a few minutes): each benchmark
 * at a size that keeps its same-run ratios meaningful, one after the
 * other (never two at once: they would share the 2 cores), each in its own
 * process with a time budget, then one summary table of the lines that
 * hold each one's ratios. The full output of every run is printed as it
 * comes, so the summary can be checked against it.
 *
 *   npm run bench                          (builds first)
 *   node_modules/.bin/node dist/bench/run-all.js [--only NAME,NAME]
 *
 * The long runs stay separate: the simulator at 10^5-10^6 peers
 * (sim-protocol.js, sim-engine.js) and the full-size download, swarm and
 * streaming runs documented in docs/BENCHMARKS.md. A benchmark that fails
 * or runs out of time is reported as such and the others still run.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { SWARMCDN_NODE_FLAGS } from '../src/cli/node-flags.js'

/** One benchmark of the quick set. */
interface QuickBench {
  /** Short name, for --only and the summary. */
  name: string
  /** Script in dist/bench/. */
  script: string
  args: string[]
  /** Node flags for the benchmark process itself. */
  nodeFlags?: string[]
  /** Killed after this long, in seconds. */
  budgetSec: number
  /** Lines of its output that make its summary (matched on the whole stdout). */
  summary: RegExp[]
}

const QUICK_SET: QuickBench[] = [
  { name: 'command-start', script: 'command-start.js', args: ['--runs', '10'], budgetSec: 180, summary: [/^cold get .*$/m, /^first get .*$/m] },
  { name: 'prefix-table', script: 'prefix-table.js', args: [], nodeFlags: ['--expose-gc'], budgetSec: 120, summary: [/^load binary block.*$/m, /^load: .*$/m, /^lookup IPv4.*$/m] },
  { name: 'web-seed', script: 'web-seed-throughput.js', args: ['--size-mib', '64', '--rounds', '3'], budgetSec: 180, summary: [/^ {2}web seed GET \/c\/ID \(200\).*$/m, /^ {2}web seed GET \/c\/ID Range.*$/m] },
  { name: 'download', script: 'download.js', args: ['256', '1'], nodeFlags: [...SWARMCDN_NODE_FLAGS], budgetSec: 300, summary: [/^round 1: .*$/m, /^round 1 whole commands: .*$/m, /^round 1 whole commands over HTTP: .*$/m, /^round 1 peak RSS: .*$/m] },
  { name: 'swarm', script: 'swarm.js', args: ['10', '16'], budgetSec: 300, summary: [/^seeder upload saved.*$/m] },
  { name: 'locality', script: 'locality.js', args: ['4', '3', '8'], budgetSec: 240, summary: [/^intra-AS share on\/off.*$/m] },
  { name: 'stream-ttfb', script: 'stream-ttfb.js', args: ['--size-mib', '64', '--rounds', '1', '--stall-mib', '8'], budgetSec: 240, summary: [/^.*seeder gateway \/ web seed.*$/m, /^.*swarm gateway \/ web seed.*$/m] },
  { name: 'sim-protocol', script: 'sim-protocol.js', args: ['--peers', '10000', '--duration-h', '2', '--budget-s', '120'], budgetSec: 300, summary: [/^ratio .*$/m] }
]

const USAGE = `usage: node dist/bench/run-all.js [--only ${QUICK_SET.map(b => b.name).join(',')}]`

interface Outcome { bench: QuickBench, seconds: number, status: string, lines: string[] }

async function runOne (bench: QuickBench): Promise<Outcome> {
  const script = fileURLToPath(new URL(`./${bench.script}`, import.meta.url))
  const started = performance.now()
  console.log(`\n## ${bench.name}: node ${[...(bench.nodeFlags ?? []), `dist/bench/${bench.script}`, ...bench.args].join(' ')}\n`)
  let stdout = ''
  const code = await new Promise<number | string>(resolve => {
    const p = spawn(process.execPath, [...(bench.nodeFlags ?? []), script, ...bench.args], { stdio: ['ignore', 'pipe', 'inherit'] })
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); process.stdout.write(d) })
    // SIGTERM first so the benchmark's own cleanup (temp folders, child seeders) runs.
    const timer = setTimeout(() => { p.kill('SIGTERM'); setTimeout(() => { p.kill('SIGKILL') }, 10_000).unref() }, bench.budgetSec * 1000)
    p.on('exit', (c, signal) => { clearTimeout(timer); resolve(c ?? signal ?? 'killed') })
  })
  const seconds = (performance.now() - started) / 1000
  const lines = bench.summary.map(r => r.exec(stdout)?.[0].trim().replace(/\s{2,}/g, ' ')).filter((l): l is string => l != null)
  const status = code === 0 ? 'ok' : seconds >= bench.budgetSec ? `out of time (${bench.budgetSec} s)` : `failed (${String(code)})`
  return { bench, seconds, status, lines }
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, help: { type: 'boolean' } }, strict: true })
  if (values.help === true) { console.log(USAGE); return }
  const only = values.only?.split(',')
  const unknown = only?.filter(n => !QUICK_SET.some(b => b.name === n)) ?? []
  if (unknown.length > 0) { console.error(`unknown benchmark ${unknown.join(', ')}\n${USAGE}`); process.exitCode = 2; return }
  const outcomes: Outcome[] = []
  for (const bench of QUICK_SET.filter(b => only == null || only.includes(b.name))) outcomes.push(await runOne(bench))
  const cell = (s: string): string => s.replaceAll('|', '\\|')
  console.log('\n## Summary\n')
  console.log('| benchmark | status | s | result (same-run ratios) |')
  console.log('| --- | --- | ---: | --- |')
  for (const o of outcomes) console.log(`| ${o.bench.name} | ${o.status} | ${o.seconds.toFixed(0)} | ${o.lines.length > 0 ? o.lines.map(cell).join('<br>') : '(no result line)'} |`)
  console.log(`\ntotal ${outcomes.reduce((s, o) => s + o.seconds, 0).toFixed(0)} s; every command: node [flags] dist/bench/SCRIPT ARGS as listed above each run`)
  if (outcomes.some(o => o.status !== 'ok')) process.exitCode = 1
}

await main()
