/**
 * Transit accounting: which kind of network path a transfer between two
 * peers crossed, from the two peers' places. The libp2p client, the origin
 * seeder's metrics, delivery reports and the simulator all classify with
 * this one function, so "bytes that stayed inside an AS" means the same in
 * a simulated run and on a real network.
 *
 * Rules, first match wins:
 *  1. `same-as`: both AS numbers known (not 0) and equal;
 *  2. `same-prefix`: both addresses known, same family, and their longest
 *     shared prefix is at least SAME_PREFIX_MIN_BITS_V4 (24) bits for IPv4
 *     or SAME_PREFIX_MIN_BITS_V6 (48) for IPv6. These are the widths BEP 40
 *     masks addresses to and the usual smallest routed prefixes (RIPE-399,
 *     most IPv6 filters), so two addresses sharing one are, as far as BGP
 *     can tell, in one network even when a table maps them to two ASes or
 *     to none;
 *  3. `other-as`: both AS numbers known and different;
 *  4. `unknown`: anything else (an address or AS we could not tell).
 * The simulator's own "same AS" (both nodes placed in one AS) is rule 1.
 */
import { type IpAddress, sharedPrefixBits } from './ip-address.js'

/** The locality classes, nearest first. */
export const LOCALITY_CLASSES = ['same-as', 'same-prefix', 'other-as', 'unknown'] as const

/** Which kind of path a transfer crossed (rules in the file's comment). */
export type LocalityClass = typeof LOCALITY_CLASSES[number]

/** Shared IPv4 prefix bits from which two addresses count as one network (rule 2). */
export const SAME_PREFIX_MIN_BITS_V4 = 24
/** Shared IPv6 prefix bits from which two addresses count as one network (rule 2). */
export const SAME_PREFIX_MIN_BITS_V6 = 48

/** What classification needs of a peer's place (a PeerPlace fits). */
export interface LocalityPlace {
  /** AS number; 0 when unknown. */
  readonly asn: number
  /** Public address, when known. */
  readonly address?: IpAddress | undefined
}

/** The locality class of a transfer between `a` and `b` (symmetric). */
export function classifyLocality (a: LocalityPlace, b: LocalityPlace): LocalityClass {
  if (a.asn !== 0 && a.asn === b.asn) return 'same-as'
  const x = a.address
  const y = b.address
  if (x !== undefined && y !== undefined && x.family === y.family &&
    sharedPrefixBits(x, y) >= (x.family === 4 ? SAME_PREFIX_MIN_BITS_V4 : SAME_PREFIX_MIN_BITS_V6)) return 'same-prefix'
  if (a.asn !== 0 && b.asn !== 0) return 'other-as'
  return 'unknown'
}

/**
 * The same rules for two IPv4 addresses given as unsigned 32-bit numbers,
 * without building address objects (the simulator classifies every
 * transfer of a million-node run).
 */
export function classifyIpv4Locality (asnA: number, ipA: number, asnB: number, ipB: number): LocalityClass {
  if (asnA !== 0 && asnA === asnB) return 'same-as'
  if (Math.clz32((ipA ^ ipB) >>> 0) >= SAME_PREFIX_MIN_BITS_V4) return 'same-prefix'
  if (asnA !== 0 && asnB !== 0) return 'other-as'
  return 'unknown'
}

/** Bytes per locality class, as plain JSON. */
export type LocalityByteCounts = Record<LocalityClass, number>

/** A zeroed LocalityByteCounts. */
export function emptyLocalityBytes (): LocalityByteCounts {
  return { 'same-as': 0, 'same-prefix': 0, 'other-as': 0, unknown: 0 }
}

/** Adds `bytes` to `counts[locality]` and returns `counts`. */
export function addLocalityBytes (counts: LocalityByteCounts, locality: LocalityClass, bytes: number): LocalityByteCounts {
  counts[locality] += bytes
  return counts
}

/** The class-by-class sum of some counts (a new object). */
export function addLocalityCounts (...counts: LocalityByteCounts[]): LocalityByteCounts {
  const sum = emptyLocalityBytes()
  for (const c of counts) for (const k of LOCALITY_CLASSES) sum[k] += c[k]
  return sum
}
