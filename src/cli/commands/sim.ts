/**
 * `swarmcdn sim SCENARIO.json [--seed N] [--out DIR] [--json]`: runs a
 * simulator scenario and writes its outputs. The CLI is the one place in
 * src/ allowed to reach into sim/ (loaded lazily so other commands do not
 * pay for it). A failing run prints its seed so it can be replayed.
 */
import type { Command } from 'commander'
import { resolveScenarioArg, SHIPPED_SCENARIO_DIR } from '../shipped-file-arg.js'

/** Registers the `sim` subcommand. */
export function registerSim (program: Command): void {
  program
    .command('sim')
    .description('Run a simulator scenario (sim/scenarios/*.json) and write summary.json, CSV time series and SVG charts')
    .argument('<scenario>', `scenario JSON file, or the name of one shipped with swarmcdn (${SHIPPED_SCENARIO_DIR}/NAME.json, e.g. flash-crowd-small)`)
    .option('--seed <n>', 'run seed (overrides the scenario), integer in [0, 2^32)')
    .option('--out <dir>', 'output directory (default sim-out/<scenario name>)')
    .option('--json', 'print summary.json to stdout instead of a table')
    .option('--compare', 'also run with proximity off and with supernodes off (swarmcdn scenarios); writes compare.json and compare.csv')
    .addHelpText('after', `
Example:
  $ swarmcdn sim flash-crowd-small --seed 1 --out /tmp/simout
  scenario flash-crowd-small  seed 1  protocol swarmcdn (wired)
  ...
  outputs  /tmp/simout/summary.json, /tmp/simout/perf.json, /tmp/simout/timeseries.csv, ...
`)
    .action(async (scenarioPath: string, opts: { seed?: string, out?: string, json?: boolean, compare?: boolean }) => {
      const { loadScenario } = await import('../../../sim/scenario/load-scenario.js')
      const { runScenario } = await import('../../../sim/run-scenario.js')
      const { writeOutputs, summaryJson } = await import('../../../sim/output/write-outputs.js')
      const scenario = loadScenario(resolveScenarioArg(scenarioPath))
      let seed = scenario.seed
      if (opts.seed !== undefined) {
        seed = Number(opts.seed)
        if (!/^\d+$/.test(opts.seed) || seed > 0xffffffff) throw new Error(`--seed must be an integer in [0, 2^32), got ${opts.seed}`)
      }
      const outDir = opts.out ?? `sim-out/${scenario.name}`
      const durationS = scenario.durationS
      let bar: { update: (v: number, p: object) => void, stop: () => void } | null = null
      if (process.stderr.isTTY && opts.json !== true) {
        const { SingleBar, Presets } = (await import('cli-progress')).default
        const b = new SingleBar({ format: 'sim {bar} {percentage}% | {simTime} / {endTime} simulated | {eps} events/s', stream: process.stderr, hideCursor: true }, Presets.shades_classic)
        b.start(durationS, 0, { simTime: hms(0), endTime: hms(durationS), eps: 0 })
        bar = b
      }
      const started = performance.now()
      let result
      try {
        result = runScenario(scenario, {
          seed,
          onProgress: (nowMs, events) => {
            bar?.update(Math.floor(nowMs / 1000), { simTime: hms(nowMs / 1000), endTime: hms(durationS), eps: Math.round(events / Math.max(1e-3, (performance.now() - started) / 1000)) })
          }
        })
      } catch (err) {
        bar?.stop()
        const e = err as Error
        e.message = `${e.message} (scenario ${scenario.name}, seed ${seed}; replay with --seed ${seed})`
        throw e
      }
      bar?.stop()
      const files = writeOutputs(result, outDir)
      if (opts.compare === true) {
        const { runCompare, compareRow, COMPARE_VARIANTS } = await import('../../../sim/run-compare.js')
        const { writeFileSync } = await import('node:fs')
        const { stringify } = await import('csv-stringify/sync')
        const others = runCompare(scenario, { seed }).slice(1)
        others.forEach((r, i) => files.push(...writeOutputs(r, `${outDir}/${COMPARE_VARIANTS[i + 1].variant.replace(/ /g, '-')}`)))
        const rows = [result, ...others].map(compareRow)
        writeFileSync(`${outDir}/compare.json`, JSON.stringify(rows, null, 2) + '\n')
        writeFileSync(`${outDir}/compare.csv`, stringify(rows, { header: true }))
        files.push(`${outDir}/compare.json`, `${outDir}/compare.csv`)
        if (opts.json !== true) {
          const pct = (x: number | null): string => x == null ? 'n/a' : `${(x * 100).toFixed(1)}%`
          const sec = (x: number | null): string => x == null ? 'n/a' : `${x.toFixed(1)} s`
          process.stdout.write(['variant          offload  intra-AS  p50      p95      lookups  supernodes',
            ...rows.map(r => `${r.variant.padEnd(16)} ${pct(r.originOffload).padStart(7)}  ${pct(r.intraAsPeerByteShare).padStart(8)}  ${sec(r.downloadP50S).padStart(7)}  ${sec(r.downloadP95S).padStart(7)}  ${pct(r.lookupSuccessRate).padStart(7)}  ${r.supernodesMean == null ? 'n/a' : r.supernodesMean.toFixed(0)}`)].join('\n') + '\n')
        }
      }
      if (opts.json === true) {
        process.stdout.write(summaryJson(result))
        return
      }
      const m = result.summary.metrics
      const d = m.downloadTimeS.value as { count: number, p50: number | null, p95: number | null, p99: number | null }
      const r = m.requests.value as { total: number, completed: number, aborted: number, failedNoSeeder: number }
      const lines = [
        `scenario ${scenario.name}  seed ${seed}  protocol ${result.summary.protocol.kind} (${result.summary.protocol.wired ? 'wired' : 'NOT wired: ' + result.summary.protocol.flow})`,
        `nodes    ${result.summary.nodes.peers} peers (${result.summary.nodes.supernodes} supernodes) + ${result.summary.nodes.seeders} seeders in ${result.summary.nodes.ases} ASes`,
        `events   ${result.perf.events} in ${(result.perf.wallMs / 1000).toFixed(1)} s wall (${Math.round(result.perf.eventsPerSec)} events/s), max RSS ${(result.perf.maxRssBytes / 2 ** 20).toFixed(0)} MiB`,
        `requests ${r.total}: ${r.completed} completed, ${r.aborted} aborted, ${r.failedNoSeeder} found no seeder`,
        `download p50 ${fmtS(d.p50)}  p95 ${fmtS(d.p95)}  p99 ${fmtS(d.p99)}`,
        `offload  ${m.originOffload.value == null ? 'n/a' : ((m.originOffload.value as number) * 100).toFixed(1) + '%'}`,
        ...((m.faultRecovery.value as Array<{ type: string, atS: number, victims: number, watched: string, recoveryS: number | null }>).map((f) =>
          `fault    ${f.type} at ${hms(f.atS)}: ${f.victims} down; ${f.watched} recovered ${f.recoveryS == null ? 'not within the run' : `after ${f.recoveryS} s`}`)),
        `outputs  ${files.join(', ')}`
      ]
      process.stdout.write(lines.join('\n') + '\n')
    })
}

function hms (s: number): string {
  const h = Math.floor(s / 3600); const m = Math.floor(s % 3600 / 60); const sec = Math.floor(s % 60)
  return `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`
}

function fmtS (v: number | null): string { return v == null ? 'n/a' : `${v.toFixed(1)} s` }
