/**
 * The AS resolver of a client process: the default prefix table (the
 * RouteViews data of @ip-location-db/asn) is read only when a lookup first
 * asks about a public address.
 *
 * Why: the table is ~25 MiB of a client's memory (its 12 MiB block, 81 k
 * organisation names, the decoding), and a client whose sources are all on
 * loopback, a LAN or a private network never needs it: those addresses are
 * in no BGP table, so every lookup answers "unknown" with or without it
 * (a test checks that the shipped table holds no such range). Nor are the
 * blocks IANA reserves for documentation, benchmarks and multicast
 * (NEVER_ROUTED; a host numbered from one, like a test machine on
 * 192.0.2.0/24, looks itself up at start). A download
 * from public addresses loads it at the first lookup of one, as before.
 * Tables given by the user (`--prefix-table`) may map any address (test
 * tables map 127/8 to ASes) and are loaded at once.
 */
import { AsnResolver } from '../core/proximity/asn-resolver.js'
import { addressScope, compareIpAddresses, parseIpPrefix, prefixRange, type IpAddress } from '../core/proximity/ip-address.js'
import type { AsnRecord, PrefixTable } from '../core/proximity/prefix-table.js'
import { loadPrefixTableFiles } from './prefix-table-files.js'

/** Public blocks no BGP table holds (RFC 6890's not globally reachable ones that addressScope calls public). */
export const NEVER_ROUTED = ['192.0.0.0/24', '192.0.2.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4', '2001:db8::/32', 'ff00::/8']
  .map(block => { const p = parseIpPrefix(block); return prefixRange(p.address, p.prefixBits) })

/** Whether a BGP table may map `address`: a public one outside NEVER_ROUTED. */
function mayBeRouted (address: IpAddress): boolean {
  if (addressScope(address) !== 'public') return false
  return !NEVER_ROUTED.some(r => r.first.family === address.family && compareIpAddresses(r.first, address) <= 0 && compareIpAddresses(address, r.last) <= 0)
}

/** A resolver that reads `load()`'s table at its first lookup of a public address, or when its table is asked for. */
export class LazyAsnResolver extends AsnResolver {
  private load: (() => PrefixTable) | undefined

  constructor (load: () => PrefixTable) {
    super()
    this.load = load
  }

  /** Whether the table was read (or replaced) yet. */
  get loaded (): boolean {
    return this.load === undefined
  }

  override get table (): PrefixTable {
    this.loadNow()
    return super.table
  }

  override replaceTable (table: PrefixTable): PrefixTable {
    // A table swapped in (a reload of fresh BGP data) wins over the one not read yet.
    this.load = undefined
    return super.replaceTable(table)
  }

  override asnOf (address: IpAddress | undefined): number {
    if (address !== undefined) this.loadFor(address)
    return super.asnOf(address)
  }

  override lookup (address: IpAddress): AsnRecord | undefined {
    this.loadFor(address)
    return super.lookup(address)
  }

  private loadFor (address: IpAddress): void {
    if (this.load !== undefined && mayBeRouted(address)) this.loadNow()
  }

  private loadNow (): void {
    const load = this.load
    if (load === undefined) return
    this.load = undefined
    super.replaceTable(load())
  }
}

/**
 * The resolver for `--prefix-table PATHS`: with no paths the default
 * table, read lazily (see the file's comment); with paths, those files,
 * read now (a missing or bad file fails the command at start, not in the
 * middle of a download).
 */
export function prefixTableResolver (paths: readonly string[] | undefined): AsnResolver {
  if (paths === undefined) return new LazyAsnResolver(() => loadPrefixTableFiles())
  return new AsnResolver(paths.length === 0 ? undefined : loadPrefixTableFiles(paths))
}
