/**
 * Reads and validates scenario JSON: every unknown or malformed field is
 * rejected with its path (e.g. `faults[1].fraction`), and every missing
 * optional field gets the default documented in scenario.ts.
 */
import { natParams } from '../models/nat.js'
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { CHURN_PRESETS } from '../models/churn.js'
import { type Law, LawError, validateLaw, weibullScaleForMean } from '../models/distributions.js'
import { type AccessClass, DEFAULT_ACCESS_CLASSES } from '../models/network.js'
import type { Fault, FlashCrowd, Population, Scenario, ScriptedRequest } from './scenario.js'

/** Thrown for an invalid scenario; `field` is the offending path. */
export class ScenarioError extends Error {
  override name = 'ScenarioError'
  readonly code = 'ERR_SCENARIO'
  constructor (readonly field: string, message: string) {
    super(`scenario field ${field}: ${message}`)
  }
}

type Obj = Record<string, unknown>

function isObj (v: unknown): v is Obj { return typeof v === 'object' && v != null && !Array.isArray(v) }

function obj (v: unknown, path: string, allowed: string[]): Obj {
  if (v === undefined) return {}
  if (!isObj(v)) throw new ScenarioError(path, `must be an object, got ${JSON.stringify(v)}`)
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) throw new ScenarioError(path === '' ? k : `${path}.${k}`, `unknown field (allowed: ${allowed.join(', ')})`)
  }
  return v
}

function at (path: string, key: string): string { return path === '' ? key : `${path}.${key}` }

function num (o: Obj, key: string, path: string, def: number | undefined, opts: { min?: number, max?: number, integer?: boolean, exclusiveMin?: boolean } = {}): number {
  const p = at(path, key)
  const v = o[key]
  if (v === undefined) {
    if (def === undefined) throw new ScenarioError(p, 'is required')
    return def
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ScenarioError(p, `must be a number, got ${JSON.stringify(v)}`)
  if (opts.integer === true && !Number.isInteger(v)) throw new ScenarioError(p, `must be an integer, got ${v}`)
  if (opts.min !== undefined && (opts.exclusiveMin === true ? v <= opts.min : v < opts.min)) throw new ScenarioError(p, `must be ${opts.exclusiveMin === true ? '>' : '>='} ${opts.min}, got ${v}`)
  if (opts.max !== undefined && v > opts.max) throw new ScenarioError(p, `must be <= ${opts.max}, got ${v}`)
  return v
}

function str<T extends string> (o: Obj, key: string, path: string, def: T | undefined, choices?: readonly T[]): T {
  const p = at(path, key)
  const v = o[key]
  if (v === undefined) {
    if (def === undefined) throw new ScenarioError(p, 'is required')
    return def
  }
  if (typeof v !== 'string') throw new ScenarioError(p, `must be a string, got ${JSON.stringify(v)}`)
  if (choices != null && !choices.includes(v as T)) throw new ScenarioError(p, `must be one of ${choices.join(', ')}; got ${JSON.stringify(v)}`)
  return v as T
}

function arr (o: Obj, key: string, path: string): unknown[] {
  const v = o[key]
  if (v === undefined) return []
  if (!Array.isArray(v)) throw new ScenarioError(at(path, key), 'must be an array')
  return v
}

/** Validates a law; Weibull may give `mean` instead of `scale`. */
function law (v: unknown, path: string, def?: Law): Law {
  if (v === undefined) {
    if (def === undefined) throw new ScenarioError(path, 'is required')
    return def
  }
  if (!isObj(v)) throw new ScenarioError(path, 'must be a law object like {"law": "exponential", "mean": 3600}')
  let l = v as unknown as Law & { mean?: number }
  if (l.law === 'weibull' && (l as { scale?: number }).scale === undefined && typeof l.mean === 'number' && typeof l.shape === 'number') {
    l = { law: 'weibull', shape: l.shape, scale: weibullScaleForMean(l.mean, l.shape) }
  }
  const allowed: Record<string, string[]> = { fixed: ['value'], exponential: ['mean'], weibull: ['shape', 'scale'], pareto: ['shape', 'min'], lognormal: ['median', 'sigma'] }
  try {
    validateLaw(l, path)
  } catch (err) {
    if (err instanceof LawError) throw new ScenarioError(path, err.message)
    throw err
  }
  for (const k of Object.keys(l)) {
    if (k !== 'law' && !allowed[l.law].includes(k)) throw new ScenarioError(`${path}.${k}`, `unknown field for law ${l.law} (allowed: ${allowed[l.law].join(', ')})`)
  }
  return l
}

function downS (o: Obj, path: string, def: number | null): number | null {
  if (o.downS === null) return null
  if (o.downS === undefined) return def
  return num(o, 'downS', path, undefined, { min: 0 })
}

function population (v: unknown, path: string, index: number): Population {
  const o = obj(v, path, ['name', 'role', 'count', 'churn', 'initialOnline'])
  const churn = obj(o.churn, at(path, 'churn'), ['preset', 'sessionS', 'offS'])
  const presetName = str(churn, 'preset', at(path, 'churn'), 'none')
  const preset = CHURN_PRESETS[presetName]
  if (preset == null) throw new ScenarioError(at(path, 'churn.preset'), `unknown preset ${JSON.stringify(presetName)} (known: ${Object.keys(CHURN_PRESETS).join(', ')})`)
  let initialOnline: Population['initialOnline'] = 'stationary'
  if (typeof o.initialOnline === 'number') initialOnline = num(o, 'initialOnline', path, undefined, { min: 0, max: 1 })
  else if (o.initialOnline !== undefined) initialOnline = str(o, 'initialOnline', path, undefined, ['stationary', 'all'] as const)
  return {
    name: str(o, 'name', path, `population-${index}`),
    role: str(o, 'role', path, 'peer', ['peer', 'supernode'] as const),
    count: num(o, 'count', path, undefined, { min: 0, max: 2 ** 31 - 1, integer: true }),
    churnPreset: presetName,
    sessionS: law(churn.sessionS, at(path, 'churn.sessionS'), preset.sessionS),
    offS: law(churn.offS, at(path, 'churn.offS'), preset.offS),
    initialOnline
  }
}

function fault (v: unknown, path: string, durationS: number): Fault {
  if (!isObj(v)) throw new ScenarioError(path, 'must be an object')
  const type = str(v, 'type', path, undefined, ['lose-supernodes', 'lose-nodes', 'mass-restart', 'lose-seeder', 'lose-as'] as const)
  const common = ['type', 'atS', 'downS']
  const atS = (o: Obj): number => num(o, 'atS', path, undefined, { min: 0, max: durationS })
  switch (type) {
    case 'lose-supernodes': {
      const o = obj(v, path, [...common, 'fraction'])
      return { type, atS: atS(o), fraction: num(o, 'fraction', path, undefined, { min: 0, max: 1 }), downS: downS(o, path, null) }
    }
    case 'lose-nodes': {
      const o = obj(v, path, [...common, 'fraction', 'role'])
      return { type, atS: atS(o), fraction: num(o, 'fraction', path, undefined, { min: 0, max: 1 }), role: str(o, 'role', path, 'any', ['peer', 'supernode', 'any'] as const), downS: downS(o, path, null) }
    }
    case 'mass-restart': {
      const o = obj(v, path, [...common, 'fraction', 'windowS'])
      return { type, atS: atS(o), fraction: num(o, 'fraction', path, undefined, { min: 0, max: 1 }), windowS: num(o, 'windowS', path, 900, { min: 0 }), downS: downS(o, path, 30) ?? 30 }
    }
    case 'lose-seeder': {
      const o = obj(v, path, [...common, 'seeder'])
      return { type, atS: atS(o), seeder: num(o, 'seeder', path, 0, { min: 0, integer: true }), downS: downS(o, path, null) }
    }
    case 'lose-as': {
      const o = obj(v, path, [...common, 'asn', 'asRank'])
      return { type, atS: atS(o), asn: o.asn === undefined ? null : num(o, 'asn', path, undefined, { min: 1, integer: true }), asRank: num(o, 'asRank', path, 1, { min: 1, integer: true }), downS: downS(o, path, null) }
    }
  }
}

function flashCrowd (v: unknown, path: string, catalogItems: number): FlashCrowd {
  const o = obj(v, path, ['atS', 'itemRank', 'peakRequestsPerSec', 'decayS'])
  return {
    atS: num(o, 'atS', path, undefined, { min: 0 }),
    itemRank: num(o, 'itemRank', path, 1, { min: 1, max: catalogItems, integer: true }),
    peakRequestsPerSec: num(o, 'peakRequestsPerSec', path, undefined, { min: 0, exclusiveMin: true }),
    decayS: num(o, 'decayS', path, 600, { min: 0, exclusiveMin: true })
  }
}

function scriptedRequest (v: unknown, path: string, catalogItems: number): ScriptedRequest {
  const o = obj(v, path, ['atS', 'node', 'itemRank'])
  return {
    atS: num(o, 'atS', path, undefined, { min: 0 }),
    node: num(o, 'node', path, undefined, { min: 0, integer: true }),
    itemRank: num(o, 'itemRank', path, 1, { min: 1, max: catalogItems, integer: true })
  }
}

function accessClass (v: unknown, path: string): AccessClass {
  const o = obj(v, path, ['name', 'share', 'upBytesPerSec', 'downBytesPerSec'])
  return {
    name: str(o, 'name', path, undefined),
    share: num(o, 'share', path, undefined, { min: 0, exclusiveMin: true }),
    upBytesPerSec: num(o, 'upBytesPerSec', path, undefined, { min: 0, exclusiveMin: true }),
    downBytesPerSec: num(o, 'downBytesPerSec', path, undefined, { min: 0, exclusiveMin: true })
  }
}

/** Validates parsed scenario JSON and fills defaults; `defaultName` names it when the JSON does not. */
export function resolveScenario (json: unknown, defaultName = 'scenario'): Scenario {
  const top = obj(json, '', ['$comment', 'name', 'description', 'seed', 'durationS', 'sampleIntervalS', 'recoveryThreshold', 'network', 'populations', 'seeders', 'diurnal', 'workload', 'faults', 'protocol'])
  const durationS = num(top, 'durationS', '', 86400, { min: 0, exclusiveMin: true })
  const net = obj(top.network, 'network', ['asCount', 'asCsvPath', 'latency', 'accessClasses', 'nat'])
  const nat = obj(net.nat, 'network.nat', ['behindNatShare', 'symmetricShare', 'upnpShare', 'punchSuccess'])
  const punch = obj(nat.punchSuccess, 'network.nat.punchSuccess', ['coneCone', 'coneSymmetric', 'symmetricSymmetric'])
  const share = (o: Record<string, unknown>, k: string, where: string, d: number): number => num(o, k, where, d, { min: 0, max: 1 })
  const lat = obj(net.latency, 'network.latency', ['sameAsMs', 'sameRegionMs', 'otherMs', 'jitterFraction'])
  const classes = net.accessClasses === undefined ? DEFAULT_ACCESS_CLASSES : arr(net, 'accessClasses', 'network').map((c, i) => accessClass(c, `network.accessClasses[${i}]`))
  if (classes.length === 0 || classes.length > 255) throw new ScenarioError('network.accessClasses', 'needs 1 to 255 classes')
  const pops = arr(top, 'populations', '')
  if (pops.length === 0) throw new ScenarioError('populations', 'needs at least one population')
  const seeders = obj(top.seeders, 'seeders', ['count', 'upBytesPerSec', 'downBytesPerSec'])
  const diurnal = obj(top.diurnal, 'diurnal', ['amplitude', 'peakHour'])
  const wl = obj(top.workload, 'workload', ['catalogItems', 'zipfExponent', 'itemSizeBytes', 'requestsPerOnlinePeerPerHour', 'flashCrowds', 'requests'])
  const catalogItems = num(wl, 'catalogItems', 'workload', 1000, { min: 1, max: 10_000_000, integer: true })
  const proto = obj(top.protocol, 'protocol', ['kind', 'params'])
  if (proto.params !== undefined && !isObj(proto.params)) throw new ScenarioError('protocol.params', 'must be an object')
  const scenario: Scenario = {
    name: str(top, 'name', '', defaultName),
    description: str(top, 'description', '', ''),
    seed: num(top, 'seed', '', 1, { min: 0, max: 0xffffffff, integer: true }),
    durationS,
    sampleIntervalS: num(top, 'sampleIntervalS', '', 60, { min: 0, exclusiveMin: true }),
    recoveryThreshold: num(top, 'recoveryThreshold', '', 0.9, { min: 0, max: 1 }),
    network: {
      asCount: num(net, 'asCount', 'network', 500, { min: 0, integer: true }),
      asCsvPath: net.asCsvPath === undefined || net.asCsvPath === null ? null : str(net, 'asCsvPath', 'network', undefined),
      latency: {
        sameAsMs: num(lat, 'sameAsMs', 'network.latency', 5, { min: 0 }),
        sameRegionMs: num(lat, 'sameRegionMs', 'network.latency', 30, { min: 0 }),
        otherMs: num(lat, 'otherMs', 'network.latency', 100, { min: 0 }),
        jitterFraction: num(lat, 'jitterFraction', 'network.latency', 0.2, { min: 0 })
      },
      accessClasses: classes,
      nat: natParams({
        behindNatShare: share(nat, 'behindNatShare', 'network.nat', 0),
        symmetricShare: share(nat, 'symmetricShare', 'network.nat', 0.2),
        upnpShare: share(nat, 'upnpShare', 'network.nat', 0),
        punchSuccess: {
          coneCone: share(punch, 'coneCone', 'network.nat.punchSuccess', 0),
          coneSymmetric: share(punch, 'coneSymmetric', 'network.nat.punchSuccess', 0),
          symmetricSymmetric: share(punch, 'symmetricSymmetric', 'network.nat.punchSuccess', 0)
        }
      })
    },
    populations: pops.map((p, i) => population(p, `populations[${i}]`, i)),
    seeders: {
      count: num(seeders, 'count', 'seeders', 1, { min: 0, max: 10_000, integer: true }),
      upBytesPerSec: num(seeders, 'upBytesPerSec', 'seeders', 125_000_000, { min: 0, exclusiveMin: true }),
      downBytesPerSec: num(seeders, 'downBytesPerSec', 'seeders', 125_000_000, { min: 0, exclusiveMin: true })
    },
    diurnal: {
      amplitude: num(diurnal, 'amplitude', 'diurnal', 0, { min: 0, max: 0.99 }),
      peakHour: num(diurnal, 'peakHour', 'diurnal', 20, { min: 0, max: 24 })
    },
    workload: {
      catalogItems,
      zipfExponent: num(wl, 'zipfExponent', 'workload', 0.8, { min: 0 }),
      itemSizeBytes: law(wl.itemSizeBytes, 'workload.itemSizeBytes', { law: 'fixed', value: 100 * 1024 * 1024 }),
      requestsPerOnlinePeerPerHour: num(wl, 'requestsPerOnlinePeerPerHour', 'workload', 0, { min: 0 }),
      flashCrowds: arr(wl, 'flashCrowds', 'workload').map((f, i) => flashCrowd(f, `workload.flashCrowds[${i}]`, catalogItems)),
      requests: arr(wl, 'requests', 'workload').map((r, i) => scriptedRequest(r, `workload.requests[${i}]`, catalogItems))
    },
    faults: arr(top, 'faults', '').map((f, i) => fault(f, `faults[${i}]`, durationS)),
    protocol: {
      kind: str(proto, 'kind', 'protocol', 'origin-baseline', ['origin-baseline', 'kademlia', 'swarmcdn'] as const),
      params: (proto.params as Record<string, unknown> | undefined) ?? {}
    }
  }
  const total = scenario.populations.reduce((s, p) => s + p.count, 0) + scenario.seeders.count
  if (total > 2 ** 31 - 1) throw new ScenarioError('populations', `too many nodes (${total})`)
  return scenario
}

/** Reads, parses and resolves a scenario file. */
export function loadScenario (path: string): Scenario {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ScenarioError('(file)', `cannot read ${path}: ${(err as Error).message}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new ScenarioError('(file)', `${path} is not valid JSON: ${(err as Error).message}`)
  }
  return resolveScenario(json, basename(path).replace(/\.json$/, ''))
}
