/**
 * The node's current view of address → AS: a holder around a PrefixTable
 * that can be replaced while the node runs (fresh BGP data). Lookups after
 * replaceTable() see the new table; core is synchronous, so no lookup ever
 * sees half a table.
 */
import { type IpAddress } from './ip-address.js'
import { type AsnRecord, PrefixTable } from './prefix-table.js'

/** Resolves addresses to AS numbers through a swappable prefix table. */
export class AsnResolver {
  private current: PrefixTable
  private swaps = 0

  /** Starts with `table` (default: an empty table, every address unknown). */
  constructor (table: PrefixTable = PrefixTable.empty()) {
    this.current = table
  }

  /** The table lookups use now. */
  get table (): PrefixTable { return this.current }

  /** How many times the table was replaced; lets callers re-resolve cached AS numbers. */
  get generation (): number { return this.swaps }

  /** Makes `table` the one all later lookups use; returns the previous one. */
  replaceTable (table: PrefixTable): PrefixTable {
    const previous = this.current
    this.current = table
    this.swaps++
    return previous
  }

  /** AS number of `address`, or 0 (NO_ASN) when unknown or undefined. */
  asnOf (address: IpAddress | undefined): number {
    return address === undefined ? 0 : this.current.asnOf(address)
  }

  /** AS number, org and range of `address`, or undefined. */
  lookup (address: IpAddress): AsnRecord | undefined {
    return this.current.lookup(address)
  }
}
