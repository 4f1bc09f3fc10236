/**
 * Parsers for option values, so bad CLI arguments fail at the edge with a
 * message that names the option.
 */
import { InvalidArgumentError } from 'commander'

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3 }

/** Parses a byte size such as `1048576`, `256KiB`, `1MiB`. */
export function parseByteSize (text: string): number {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(text.trim())
  const unit = m?.[2].toLowerCase() ?? ''
  if (m == null || !(unit in SIZE_UNITS)) throw new InvalidArgumentError(`not a byte size: ${text} (try 1MiB or 262144)`)
  return Number(m[1]) * SIZE_UNITS[unit]
}

/** Parses a non-negative integer. */
export function parseNonNegativeInt (text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError(`not a non-negative integer: ${text}`)
  return Number(text)
}

/** Parses HOST:PORT (port 0 picks a free port). */
export function parseHostPort (text: string): { host: string, port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(text.trim())
  if (m == null || Number(m[2]) > 65535) throw new InvalidArgumentError(`not HOST:PORT: ${text} (e.g. 127.0.0.1:8080, port 0 for any)`)
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) }
}
