/**
 * ALTO (Application-Layer Traffic Optimization, RFC 7285) maps from an
 * ISP: a network map that groups address prefixes into PIDs (§11.2.1) and
 * a cost map of PID → PID costs (§11.2.3), as the JSON objects the RFC
 * defines (media types application/alto-networkmap+json and
 * application/alto-costmap+json). An optional input to peer ranking: the
 * cost from the chooser's PID to a candidate's PID (peer-ranking.ts, rule 3).
 *
 * Rules:
 * - A PID's `ipv4`/`ipv6` entries are CIDR prefixes; an address belongs to
 *   the PID of its longest matching prefix (§11.2.1.6); PID names follow
 *   §10.1 (1-64 chars of alphanumerics, `-`, `_`, `.`, `:`, `@`).
 * - The cost map must name the network map it was computed for:
 *   `meta.dependent-vtags[0]` equal to the network map's `meta.vtag`
 *   (resource-id and tag, §11.2.3.6); a stale pairing is refused.
 * - Only `cost-mode: "numerical"` is accepted (ordinal costs compare the
 *   same, but mixing modes across maps would not). Costs are finite and
 *   non-negative. A pair the cost map does not list has no cost (ranked
 *   after every pair that has one, as an unknown RTT is).
 * - Limits: MAX_ALTO_PIDS PIDs, MAX_ALTO_PREFIXES prefixes in all.
 */
import { parseIpPrefix, type IpAddress } from './ip-address.js'
import { PrefixTableBuilder, type PrefixTable } from './prefix-table.js'

/** PIDs in one network map at most. */
export const MAX_ALTO_PIDS = 10_000
/** Prefixes over all PIDs of one network map at most. */
export const MAX_ALTO_PREFIXES = 1_000_000

/** A network or cost map that is not valid RFC 7285 JSON for our use, or that does not fit its partner. */
export class AltoMapError extends Error {
  override name = 'AltoMapError'
  readonly code = 'ERR_ALTO_MAP'
}

const PID_NAME = /^[A-Za-z0-9\-_.:@]{1,64}$/

function object (v: unknown, what: string): Record<string, unknown> {
  if (v == null || typeof v !== 'object' || Array.isArray(v)) throw new AltoMapError(`${what} is not a JSON object`)
  return v as Record<string, unknown>
}

function vtagOf (v: unknown, what: string): { resourceId: string, tag: string } {
  const o = object(v, what)
  if (typeof o['resource-id'] !== 'string' || typeof o.tag !== 'string') throw new AltoMapError(`${what} needs "resource-id" and "tag" strings`)
  return { resourceId: o['resource-id'], tag: o.tag }
}

/** One pair of maps, checked and joined. */
interface AltoState {
  readonly pids: PrefixTable
  readonly names: readonly string[]
  readonly costs: ReadonlyMap<string, ReadonlyMap<string, number>>
  readonly vtag: { resourceId: string, tag: string }
  readonly metric: string
}

/**
 * A network map and a cost map that belong together: PID lookups and
 * PID-pair costs. The maps can be replaced while a node runs (`replace`,
 * an ISP's new maps): every holder of this object sees the new ones, and
 * since the core is synchronous no lookup ever sees half a pair.
 */
export class AltoCosts {
  private state: AltoState

  private constructor (state: AltoState) {
    this.state = state
  }

  /** The network map's version tag. */
  get vtag (): { resourceId: string, tag: string } { return this.state.vtag }

  /** The cost metric, e.g. "routingcost". */
  get metric (): string { return this.state.metric }

  /** Makes `next`'s maps the ones all later lookups use. */
  replace (next: AltoCosts): void {
    this.state = next.state
  }

  /** Checks and joins a parsed network map and cost map (RFC 7285 §11.2.1, §11.2.3). Throws AltoMapError. */
  static fromJson (networkMapJson: unknown, costMapJson: unknown): AltoCosts {
    const nm = object(networkMapJson, 'the network map')
    const vtag = vtagOf(object(nm.meta, 'the network map\'s meta').vtag, 'the network map\'s meta.vtag')
    const map = object(nm['network-map'], 'the network map\'s "network-map"')
    const names = Object.keys(map)
    if (names.length === 0 || names.length > MAX_ALTO_PIDS) throw new AltoMapError(`a network map has 1-${MAX_ALTO_PIDS} PIDs, this one ${names.length}`)
    const builder = new PrefixTableBuilder()
    builder.beginSource('network map')
    let prefixes = 0
    names.forEach((pid, index) => {
      if (!PID_NAME.test(pid)) throw new AltoMapError(`not a PID name (RFC 7285 §10.1): ${JSON.stringify(pid.slice(0, 80))}`)
      const entry = object(map[pid], `PID ${pid}`)
      for (const family of ['ipv4', 'ipv6'] as const) {
        const list = entry[family]
        if (list === undefined) continue
        if (!Array.isArray(list)) throw new AltoMapError(`PID ${pid}: "${family}" is not a list of prefixes`)
        for (const text of list) {
          if (++prefixes > MAX_ALTO_PREFIXES) throw new AltoMapError(`a network map has at most ${MAX_ALTO_PREFIXES} prefixes`)
          let p: { address: IpAddress, prefixBits: number }
          try { p = parseIpPrefix(String(text)) } catch { throw new AltoMapError(`PID ${pid}: not a prefix: ${JSON.stringify(String(text).slice(0, 80))}`) }
          if ((p.address.family === 4) !== (family === 'ipv4')) throw new AltoMapError(`PID ${pid}: ${String(text)} listed under ${family}`)
          // The PID's index stands in the table's AS slot: one longest-prefix lookup finds it.
          builder.addPrefix(p.address, p.prefixBits, index + 1, pid)
        }
      }
    })
    const cm = object(costMapJson, 'the cost map')
    const meta = object(cm.meta, 'the cost map\'s meta')
    const deps = meta['dependent-vtags']
    if (!Array.isArray(deps) || deps.length === 0) throw new AltoMapError('the cost map names no dependent-vtags')
    const dep = vtagOf(deps[0], 'the cost map\'s dependent-vtags[0]')
    if (dep.resourceId !== vtag.resourceId || dep.tag !== vtag.tag) {
      throw new AltoMapError(`the cost map was computed for network map ${dep.resourceId} tag ${dep.tag}, not ${vtag.resourceId} tag ${vtag.tag}`)
    }
    const costType = object(meta['cost-type'], 'the cost map\'s cost-type')
    if (costType['cost-mode'] !== 'numerical') throw new AltoMapError(`cost mode ${JSON.stringify(costType['cost-mode'])} is not supported (want "numerical")`)
    const metric = typeof costType['cost-metric'] === 'string' ? costType['cost-metric'] : 'routingcost'
    const known = new Set(names)
    const costs = new Map<string, Map<string, number>>()
    for (const [src, row] of Object.entries(object(cm['cost-map'], 'the cost map\'s "cost-map"'))) {
      if (!known.has(src)) throw new AltoMapError(`the cost map names PID ${src}, which the network map does not have`)
      const out = new Map<string, number>()
      for (const [dst, cost] of Object.entries(object(row, `cost-map row ${src}`))) {
        if (!known.has(dst)) throw new AltoMapError(`the cost map names PID ${dst}, which the network map does not have`)
        if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) throw new AltoMapError(`cost ${src} → ${dst} is not a non-negative number`)
        out.set(dst, cost)
      }
      costs.set(src, out)
    }
    return new AltoCosts({ pids: builder.build(), names, costs, vtag, metric })
  }

  /** The PID of an address, or undefined when no prefix covers it. */
  pidOf (address: IpAddress | undefined): string | undefined {
    if (address === undefined) return undefined
    const i = this.state.pids.asnOf(address)
    return i === 0 ? undefined : this.state.names[i - 1]
  }

  /** The cost from `from`'s PID to `to`'s PID, or undefined when either has no PID or the pair no cost. */
  cost (from: IpAddress | undefined, to: IpAddress | undefined): number | undefined {
    const a = this.pidOf(from)
    const b = this.pidOf(to)
    return a === undefined || b === undefined ? undefined : this.state.costs.get(a)?.get(b)
  }
}
