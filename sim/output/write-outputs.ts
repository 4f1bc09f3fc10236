/**
 * Writes a run's outputs into one directory:
 * summary.json (deterministic: same scenario + seed → same bytes),
 * timeseries.csv, download-times.csv, and SVG charts; perf.json holds the
 * wall-clock numbers that must stay out of summary.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'csv-stringify/sync'
import type { RunResult } from '../run-scenario.js'
import { SERIES_COLUMNS } from './metrics-observer.js'
import { cdfPoints, lineChartSvg } from './svg-chart.js'

/** Files written by writeOutputs, relative to the output directory. */
export const OUTPUT_FILES = ['summary.json', 'perf.json', 'timeseries.csv', 'download-times.csv', 'online.svg', 'bytes.svg', 'download-cdf.svg'] as const

/** The summary as the exact text written to summary.json. */
export function summaryJson (r: RunResult): string {
  return JSON.stringify(r.summary, null, 2) + '\n'
}

/** Writes every output file into `dir` (created if needed); returns their paths. */
export function writeOutputs (r: RunResult, dir: string): string[] {
  mkdirSync(dir, { recursive: true })
  const m = r.metrics
  const files: Record<string, string> = {}
  files['summary.json'] = summaryJson(r)
  files['perf.json'] = JSON.stringify(r.perf, null, 2) + '\n'
  files['timeseries.csv'] = stringify(m.series, { header: true, columns: [...SERIES_COLUMNS] })
  files['download-times.csv'] = stringify(Array.from(m.downloadTimesS.values(), (v) => [v]), { header: true, columns: ['downloadTimeS'] })
  const col = (name: typeof SERIES_COLUMNS[number]): Array<[number, number]> => {
    const c = SERIES_COLUMNS.indexOf(name)
    return m.series.map((row) => [row[0] / 3600, row[c]])
  }
  files['online.svg'] = lineChartSvg([
    { label: 'peers online', points: col('onlinePeers') },
    { label: 'supernodes online', points: col('onlineSupernodes') }
  ], { title: `${r.summary.scenario}: nodes online`, xLabel: 'simulated time (h)', yLabel: 'nodes' })
  files['bytes.svg'] = lineChartSvg([
    { label: 'from seeders', points: col('bytesFromSeeders') },
    { label: 'from peers', points: col('bytesFromPeers') }
  ], { title: `${r.summary.scenario}: cumulative bytes delivered`, xLabel: 'simulated time (h)', yLabel: 'bytes' })
  files['download-cdf.svg'] = lineChartSvg([
    { label: 'download time', points: cdfPoints(m.downloadTimesS.sorted()) }
  ], { title: `${r.summary.scenario}: download time CDF`, xLabel: 'seconds', yLabel: 'fraction of downloads', step: true })
  return Object.entries(files).map(([name, text]) => {
    const p = join(dir, name)
    writeFileSync(p, text)
    return p
  })
}
