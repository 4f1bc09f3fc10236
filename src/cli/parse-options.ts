/**
 * Parsers for option values, so bad CLI arguments fail at the edge with a
 * message that names the option.
 */
import { InvalidArgumentError } from 'commander'
import { multiaddr } from '@multiformats/multiaddr'
import { stat } from 'node:fs/promises'
import { assertOutputWritable, OutputPathError } from '../client/download-target.js'

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tib: 1024 ** 4 }

/** Parses a byte size such as `1048576`, `256KiB`, `1MiB`, `2TiB`. */
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

/** Parses a `--listen` value: a TCP multiaddr such as /ip4/0.0.0.0/tcp/4001 (the only transport swarmcdn listens on). */
export function parseListenMultiaddr (text: string, previous: string[] | undefined): string[] {
  let ok = false
  try {
    const names = multiaddr(text).getComponents().map(c => c.name)
    ok = names.length >= 2 && ['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(names[0]) && names[1] === 'tcp' && !names.includes('p2p-circuit')
  } catch {}
  if (!ok) throw new InvalidArgumentError(`not a TCP listen multiaddr: "${text}" (e.g. /ip4/0.0.0.0/tcp/4001, port 0 for any)`)
  return [...(previous ?? []), text]
}

/** Parses a repeatable peer address option (`--peer`, `--origin`): any multiaddr, typically ending in /p2p/PEER_ID. */
export function parsePeerMultiaddr (text: string, previous: string[] | undefined): string[] {
  try {
    multiaddr(text)
  } catch {
    throw new InvalidArgumentError(`not a multiaddr: ${text} (e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...)`)
  }
  return [...(previous ?? []), text]
}

export { OutputPathError }

/** Throws OutputPathError unless the directory `file` would be written into exists (checked again, with the final name, once the manifest is in). */
export async function assertOutputDirExists (file: string): Promise<void> {
  // An existing directory is fine: the item is saved inside it under its name.
  if ((await stat(file).catch(() => undefined))?.isDirectory() === true) return
  await assertOutputWritable(file, { overwrite: true })
}
