/**
 * The prefix-to-AS table peers are placed in. Everything that reads the
 * table goes through loadAsPlacement(), so it can switch to the official
 * loader in src/core/proximity when that lands.
 *
 * Source: @ip-location-db/asn's asn-ipv4-num.csv (RouteViews-derived
 * ranges "first,last,asn,name" as integers; the name is ignored).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Rng } from '../engine/rng.js'

/** Address ranges grouped by AS: AS i owns ranges rangeStart[i]..rangeStart[i+1]-1. */
export interface AsTable {
  /** AS number of each AS, sorted ascending. */
  asns: Uint32Array
  /** Number of IPv4 addresses each AS announces. */
  addresses: Float64Array
  /** Index of each AS's first range in rangeFirst/rangeSize. */
  rangeStart: Uint32Array
  /** First address of each range (as uint32). */
  rangeFirst: Uint32Array
  /** Addresses in each range. */
  rangeSize: Float64Array
}

/** Options for loadAsPlacement. */
export interface AsPlacementInit {
  /** CSV of "first,last,asn[,name]" integer ranges; default the @ip-location-db/asn IPv4 table. */
  csvPath?: string
}

const cache = new Map<string, AsTable>()

/** Path of the default table shipped by @ip-location-db/asn. */
export function defaultAsCsvPath (): string {
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve('@ip-location-db/asn/package.json')), 'asn-ipv4-num.csv')
}

/** Reads (once per path) the prefix-to-AS table and groups its ranges by AS. */
export function loadAsPlacement (init: AsPlacementInit = {}): AsTable {
  const path = init.csvPath ?? defaultAsCsvPath()
  const hit = cache.get(path)
  if (hit != null) return hit
  const text = readFileSync(path, 'latin1')
  const firsts: number[] = []; const sizes: number[] = []; const asnOf: number[] = []
  let pos = 0
  while (pos < text.length) {
    let end = text.indexOf('\n', pos)
    if (end < 0) end = text.length
    const c1 = text.indexOf(',', pos)
    const c2 = text.indexOf(',', c1 + 1)
    let c3 = text.indexOf(',', c2 + 1)
    if (c3 < 0 || c3 > end) c3 = end
    if (c1 > pos && c2 > c1 && c2 < end) {
      const first = Number(text.slice(pos, c1)); const last = Number(text.slice(c1 + 1, c2)); const asn = Number(text.slice(c2 + 1, c3))
      if (Number.isFinite(first) && Number.isFinite(last) && Number.isFinite(asn) && last >= first && asn > 0) {
        firsts.push(first); sizes.push(last - first + 1); asnOf.push(asn)
      }
    }
    pos = end + 1
  }
  const order = Array.from(asnOf.keys()).sort((a, b) => asnOf[a] - asnOf[b] || firsts[a] - firsts[b])
  const asns: number[] = []; const addresses: number[] = []; const rangeStart: number[] = []
  const rangeFirst = new Uint32Array(order.length); const rangeSize = new Float64Array(order.length)
  order.forEach((r, i) => {
    if (asns.length === 0 || asns[asns.length - 1] !== asnOf[r]) { asns.push(asnOf[r]); addresses.push(0); rangeStart.push(i) }
    addresses[addresses.length - 1] += sizes[r]
    rangeFirst[i] = firsts[r]; rangeSize[i] = sizes[r]
  })
  rangeStart.push(order.length)
  const table: AsTable = { asns: Uint32Array.from(asns), addresses: Float64Array.from(addresses), rangeStart: Uint32Array.from(rangeStart), rangeFirst, rangeSize }
  cache.set(path, table)
  return table
}

/** A subset of ASes peers are placed in, weighted by announced address space. */
export class AsSubset {
  /** Indices into the table of the chosen ASes. */
  readonly members: Uint32Array
  private readonly cum: Float64Array

  /**
   * Draws `count` distinct ASes with probability ∝ address space
   * (Efraimidis–Spirakis weighted sampling without replacement); count 0
   * keeps every AS.
   */
  constructor (readonly table: AsTable, count: number, rng: Rng) {
    const n = table.asns.length
    let chosen: number[]
    if (count <= 0 || count >= n) {
      chosen = Array.from({ length: n }, (_, i) => i)
    } else {
      const keys = new Float64Array(n)
      for (let i = 0; i < n; i++) keys[i] = Math.log(rng.floatOpen()) / table.addresses[i]
      chosen = Array.from({ length: n }, (_, i) => i).sort((a, b) => keys[b] - keys[a] || a - b).slice(0, count).sort((a, b) => a - b)
    }
    this.members = Uint32Array.from(chosen)
    this.cum = new Float64Array(chosen.length)
    let acc = 0
    chosen.forEach((a, i) => { acc += table.addresses[a]; this.cum[i] = acc })
  }

  /** AS number of subset member i. */
  asn (i: number): number { return this.table.asns[this.members[i]] }

  /** A subset member index, ∝ address space. */
  pickAs (rng: Rng): number {
    return bisect(this.cum, rng.float() * this.cum[this.cum.length - 1])
  }

  /** A uniform random IPv4 address (uint32) inside subset member i's ranges. */
  pickAddress (i: number, rng: Rng): number {
    const a = this.members[i]
    const lo = this.table.rangeStart[a]; const hi = this.table.rangeStart[a + 1]
    let target = rng.float() * this.table.addresses[a]
    for (let r = lo; r < hi; r++) {
      const size = this.table.rangeSize[r]
      if (target < size || r === hi - 1) return (this.table.rangeFirst[r] + Math.min(Math.floor(target), size - 1)) >>> 0
      target -= size
    }
    return this.table.rangeFirst[lo]
  }
}

/** First index whose cumulative value exceeds x. */
function bisect (cum: Float64Array, x: number): number {
  let lo = 0; let hi = cum.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (cum[mid] > x) hi = mid; else lo = mid + 1
  }
  return lo
}
