/**
 * IP addresses as four 32-bit words: the one file that wraps `ip-num`.
 *
 * Rules: every address is held as its 128-bit IPv6 form in four big-endian
 * 32-bit words; an IPv4 address (or an IPv4-mapped IPv6 address,
 * ::ffff:a.b.c.d) is family 4 and lives in `w3` with w0..w2 = 0, 0, 0xffff
 * (RFC 4291 §2.5.5.2), so comparing and masking never needs BigInt.
 *
 * `ip-num` is the reference parser and supplies every error message, but it
 * costs about 1.5 µs per IPv4 and 8 µs per IPv6 address (measured), which
 * would take 2.8 s for the 1 M addresses of a full RouteViews table. So the
 * canonical forms that tables actually contain (dotted quad, colon-hex with
 * at most one "::") go through a strict hand-written fast path; anything
 * it does not accept is handed to ip-num, which either parses it or throws.
 * test/core/proximity/ip-address.test.ts checks both paths agree.
 */
import { IPv4, IPv6, collapseIPv6Number } from 'ip-num'

/** An IPv4 or IPv6 address as four big-endian 32-bit words of its 128-bit form. */
export interface IpAddress {
  /** 4 for IPv4 and IPv4-mapped IPv6 addresses, 6 otherwise. */
  readonly family: 4 | 6
  /** Bits 0-31 (most significant). */
  readonly w0: number
  /** Bits 32-63. */
  readonly w1: number
  /** Bits 64-95. */
  readonly w2: number
  /** Bits 96-127; the whole IPv4 address for family 4. */
  readonly w3: number
}

/** Thrown when text is not a valid IPv4 or IPv6 address or prefix. */
export class IpAddressFormatError extends Error {
  override name = 'IpAddressFormatError'
  readonly code = 'ERR_IP_ADDRESS_FORMAT'
}

/** How far an address reaches: used to pick a peer's own public address. */
export type AddressScope = 'public' | 'private' | 'loopback' | 'link-local' | 'unspecified'

const MAPPED_W2 = 0x0000ffff

/** Builds an IPv4 address from its unsigned 32-bit value. */
export function ipv4FromNumber (value: number): IpAddress {
  return { family: 4, w0: 0, w1: 0, w2: MAPPED_W2, w3: value >>> 0 }
}

/** Builds an address from four words, folding IPv4-mapped IPv6 into family 4. */
export function ipFromWords (w0: number, w1: number, w2: number, w3: number): IpAddress {
  w0 >>>= 0; w1 >>>= 0; w2 >>>= 0; w3 >>>= 0
  const family = (w0 === 0 && w1 === 0 && w2 === MAPPED_W2) ? 4 : 6
  return { family, w0, w1, w2, w3 }
}

/** Builds an IPv6 address (or mapped IPv4) from its 128-bit value. */
export function ipFromBigInt (value: bigint): IpAddress {
  const m = 0xffffffffn
  return ipFromWords(Number((value >> 96n) & m), Number((value >> 64n) & m), Number((value >> 32n) & m), Number(value & m))
}

/** The 128-bit value of an address (IPv4 in its mapped form). */
export function ipToBigInt (a: IpAddress): bigint {
  return (BigInt(a.w0) << 96n) | (BigInt(a.w1) << 64n) | (BigInt(a.w2) << 32n) | BigInt(a.w3)
}

/** Parses a dotted quad or returns -1; strict: 4 decimal octets, no leading zeros. */
function fastIPv4 (s: string, from: number, to: number): number {
  let value = 0
  let octets = 0
  let i = from
  while (i <= to) {
    let octet = 0
    let digits = 0
    const start = i
    while (i < to) {
      const c = s.charCodeAt(i)
      if (c < 48 || c > 57) break
      octet = octet * 10 + (c - 48)
      digits++; i++
    }
    if (digits === 0 || digits > 3 || octet > 255 || (digits > 1 && s.charCodeAt(start) === 48)) return -1
    value = value * 256 + octet
    octets++
    if (i === to) break
    if (s.charCodeAt(i) !== 46 || octets === 4) return -1
    i++
  }
  return octets === 4 ? value : -1
}

function hexDigit (c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

// Scratch for the IPv6 fast path; core is synchronous, so one is enough.
const groups = new Uint16Array(8)

/** Parses colon-hex IPv6 (no embedded dotted quad, no zone) or returns undefined. */
function fastIPv6 (s: string): IpAddress | undefined {
  const len = s.length
  if (len < 2 || len > 39) return undefined
  let n = 0
  let gap = -1
  let i = 0
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return undefined
    gap = 0; i = 2
    if (i === len) { groups.fill(0); return ipFromWords(0, 0, 0, 0) }
  }
  while (i < len) {
    let g = 0
    let digits = 0
    while (i < len) {
      const d = hexDigit(s.charCodeAt(i))
      if (d < 0) break
      g = (g << 4) | d
      digits++; i++
    }
    if (digits === 0 || digits > 4 || n === 8) return undefined
    groups[n++] = g
    if (i === len) break
    if (s.charCodeAt(i) !== 58) return undefined
    i++
    if (i < len && s.charCodeAt(i) === 58) {
      if (gap >= 0) return undefined
      gap = n; i++
      if (i === len) break
    } else if (i === len) {
      return undefined
    }
  }
  if (gap < 0) {
    if (n !== 8) return undefined
  } else {
    if (n > 7) return undefined
    const tail = n - gap
    for (let k = 0; k < tail; k++) groups[7 - k] = groups[n - 1 - k]
    for (let k = gap; k < 8 - tail; k++) groups[k] = 0
  }
  return ipFromWords(
    groups[0] * 0x10000 + groups[1], groups[2] * 0x10000 + groups[3],
    groups[4] * 0x10000 + groups[5], groups[6] * 0x10000 + groups[7])
}

function viaIpNum (text: string): IpAddress {
  try {
    if (text.includes(':')) return ipFromBigInt(IPv6.fromString(text).value)
    return ipv4FromNumber(Number(IPv4.fromString(text).value))
  } catch (err) {
    const reason = (err as Error).message.replace(/^Error: /, '')
    throw new IpAddressFormatError(`not an IP address: "${text}" (${reason})`)
  }
}

/** Parses an IPv4 or IPv6 address; throws IpAddressFormatError naming the text. */
export function parseIpAddress (text: string): IpAddress {
  if (text.length === 0) throw new IpAddressFormatError('not an IP address: "" (empty)')
  if (text.includes(':')) return fastIPv6(text) ?? viaIpNum(text)
  const v4 = fastIPv4(text, 0, text.length)
  return v4 >= 0 ? ipv4FromNumber(v4) : viaIpNum(text)
}

/** Parses an address, or returns undefined when the text is not one. */
export function tryParseIpAddress (text: string): IpAddress | undefined {
  try { return parseIpAddress(text) } catch { return undefined }
}

/** Parses an address with the reference parser only (slow; for tests and edge input). */
export function parseIpAddressStrict (text: string): IpAddress {
  return viaIpNum(text)
}

/** Formats an address: dotted quad, or IPv6 with its longest zero run collapsed (ip-num). */
export function formatIpAddress (a: IpAddress): string {
  if (a.family === 4) return `${a.w3 >>> 24}.${(a.w3 >>> 16) & 255}.${(a.w3 >>> 8) & 255}.${a.w3 & 255}`
  return collapseIPv6Number(IPv6.fromBigInt(ipToBigInt(a)).toString())
}

/** Leading bits two addresses share: 0-32 for two IPv4, 0-128 for two IPv6, 0 across families. */
export function sharedPrefixBits (a: IpAddress, b: IpAddress): number {
  if (a.family !== b.family) return 0
  if (a.family === 4) return Math.clz32(a.w3 ^ b.w3)
  let x = a.w0 ^ b.w0
  if (x !== 0) return Math.clz32(x)
  x = a.w1 ^ b.w1
  if (x !== 0) return 32 + Math.clz32(x)
  x = a.w2 ^ b.w2
  if (x !== 0) return 64 + Math.clz32(x)
  return 96 + Math.clz32(a.w3 ^ b.w3)
}

/** Compares two addresses by their 128-bit value (IPv4 sorts inside ::ffff:0:0/96). */
export function compareIpAddresses (a: IpAddress, b: IpAddress): number {
  if (a.w0 !== b.w0) return a.w0 < b.w0 ? -1 : 1
  if (a.w1 !== b.w1) return a.w1 < b.w1 ? -1 : 1
  if (a.w2 !== b.w2) return a.w2 < b.w2 ? -1 : 1
  if (a.w3 !== b.w3) return a.w3 < b.w3 ? -1 : 1
  return 0
}

/** Prefix length limit of a family: 32 or 128. */
export function maxPrefixBits (family: 4 | 6): number {
  return family === 4 ? 32 : 128
}

function maskWord (word: number, bitsInWord: number): number {
  if (bitsInWord <= 0) return 0
  if (bitsInWord >= 32) return word >>> 0
  return (word & (~0 << (32 - bitsInWord))) >>> 0
}

/** The first and last address of `addr/prefixBits` (prefix length in the address's own family). */
export function prefixRange (addr: IpAddress, prefixBits: number): { first: IpAddress, last: IpAddress } {
  if (!Number.isInteger(prefixBits) || prefixBits < 0 || prefixBits > maxPrefixBits(addr.family)) {
    throw new IpAddressFormatError(`prefix length ${prefixBits} is out of range for IPv${addr.family}`)
  }
  const bits = addr.family === 4 ? prefixBits + 96 : prefixBits
  const w = [addr.w0, addr.w1, addr.w2, addr.w3]
  const first = w.map((x, k) => maskWord(x, bits - 32 * k))
  const last = first.map((x, k) => (x | ~maskWord(0xffffffff, bits - 32 * k)) >>> 0)
  return { first: ipFromWords(first[0], first[1], first[2], first[3]), last: ipFromWords(last[0], last[1], last[2], last[3]) }
}

/** Parses "a.b.c.d/n" or "x::/n"; throws IpAddressFormatError. */
export function parseIpPrefix (text: string): { address: IpAddress, prefixBits: number } {
  const slash = text.indexOf('/')
  if (slash < 0) throw new IpAddressFormatError(`not an IP prefix: "${text}" (no "/length")`)
  const address = parseIpAddress(text.slice(0, slash))
  const lenText = text.slice(slash + 1)
  const prefixBits = /^\d{1,3}$/.test(lenText) ? Number(lenText) : NaN
  if (!(prefixBits <= maxPrefixBits(address.family))) {
    throw new IpAddressFormatError(`not an IP prefix: "${text}" (bad length "${lenText}")`)
  }
  return { address, prefixBits }
}

/** Classifies an address by reach, using ip-num's IANA special-purpose ranges. */
export function addressScope (a: IpAddress): AddressScope {
  if (a.family === 4) {
    // ip-num's ranges (0.0.0.0, 127/8, 169.254/16, 10/8, 172.16/12, 192.168/16) as shifts: this runs for
    // every provider record a member stores (its source network), and building ip-num objects there was
    // a fifth of a simulated day's time. A test keeps the two in step.
    const w = a.w3 >>> 0
    if (w === 0) return 'unspecified'
    if ((w >>> 24) === 127) return 'loopback'
    if ((w >>> 16) === 0xa9fe) return 'link-local'
    // 100.64/10 (RFC 6598 carrier-grade NAT) is not public either.
    if ((w >>> 24) === 10 || (w >>> 20) === 0xac1 || (w >>> 16) === 0xc0a8 || (w >>> 22) === ((100 << 2) | 1)) return 'private'
    return 'public'
  }
  const v6 = IPv6.fromBigInt(ipToBigInt(a))
  if (v6.isUnspecified()) return 'unspecified'
  if (v6.isLoopback()) return 'loopback'
  if (v6.isLinkLocal()) return 'link-local'
  if (v6.isPrivate()) return 'private'
  return 'public'
}
