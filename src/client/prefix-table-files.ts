/**
 * Loads prefix tables from files: the file-reading half of
 * src/core/proximity (which stays free of node:fs). The format of each file
 * is told from its first data line: a tab means CAIDA pfx2as, a comma means
 * the @ip-location-db/asn CSV. Several files (IPv4 + IPv6, or several
 * sources) build one table.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { findPackageRoot } from './package-root.js'
import { decodePrefixTable, encodePrefixTable, prefixTableStamp } from './prefix-table-binary.js'
import { PrefixTable, PrefixTableBuilder } from '../core/proximity/prefix-table.js'
import { PrefixTableFormatError } from '../core/proximity/prefix-table-format-error.js'
import { addIpLocationDbLines } from '../core/proximity/ip-location-db-loader.js'
import { addCaidaPfx2asLines } from '../core/proximity/caida-pfx2as-loader.js'

/** The two table formats a file may be in. */
export type PrefixTableFormat = 'ip-location-db' | 'caida-pfx2as'

/** Thrown when a table file cannot be read at all (missing, unreadable). */
export class PrefixTableFileError extends Error {
  override name = 'PrefixTableFileError'
  readonly code = 'ERR_PREFIX_TABLE_FILE'
}

/** The IPv4 and IPv6 CSVs of the installed `@ip-location-db/asn` package. */
export function defaultPrefixTablePaths (): string[] {
  // The package has no "main" or "exports"; find it through its package.json.
  const dir = dirname(createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json'))
  return [join(dir, 'asn-ipv4.csv'), join(dir, 'asn-ipv6.csv')]
}

/** The installed @ip-location-db/asn package's folder. */
function ipLocationDbDir (): string {
  return dirname(createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json'))
}

/**
 * Where the prebuilt binary form of the default table lives: in the
 * package's dist/, written by writeDefaultPrefixTableBinary at build time
 * (`npm run build`, prepare, so `npm pack` ships it). The table package
 * is pinned to one version in package.json so that the shipped block
 * matches the CSVs installed with it; the stamp check catches the rest.
 */
export function defaultPrefixTableBinaryPath (): string {
  const root = findPackageRoot(import.meta.url)
  if (root === undefined) throw new PrefixTableFileError('cannot find the swarmcdn package folder for the prebuilt prefix table')
  return join(root.dir, 'dist', 'prefix-tables', 'ip-location-db-asn.bin')
}

/**
 * What the default table is built from: the package's version and the
 * byte sizes of its two CSVs. A block with another stamp is stale.
 */
export function defaultPrefixTableStamp (): string {
  const dir = ipLocationDbDir()
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }
  const sizes = defaultPrefixTablePaths().map(p => `${p.split('/').pop() ?? p}:${statSync(p).size}`)
  return `@ip-location-db/asn@${version} ${sizes.join(' ')}`
}

/** The default table from its binary form, or undefined when that is missing or stale. */
function loadDefaultPrefixTableBinary (paths: readonly string[]): PrefixTable | undefined {
  let bytes: Buffer
  try { bytes = readFileSync(defaultPrefixTableBinaryPath()) } catch { return undefined }
  return decodePrefixTable(bytes, defaultPrefixTableStamp(), paths)
}

/**
 * Builds the binary form of the default table from the CSVs unless a
 * fresh one is there; returns its path and whether it was (re)written.
 * The file is written to a temporary name and renamed, so a reader never
 * sees half of it.
 */
export function writeDefaultPrefixTableBinary (): { path: string, written: boolean } {
  const path = defaultPrefixTableBinaryPath()
  const stamp = defaultPrefixTableStamp()
  try {
    if (prefixTableStamp(readFileSync(path)) === stamp) return { path, written: false }
  } catch {}
  const bytes = encodePrefixTable(loadPrefixTableCsvs(defaultPrefixTablePaths()), stamp)
  mkdirSync(dirname(path), { recursive: true })
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, bytes)
  renameSync(tmp, path)
  return { path, written: true }
}

const isDefault = (paths: readonly string[]): boolean => {
  const d = defaultPrefixTablePaths()
  return paths.length === d.length && paths.every((p, i) => p === d[i])
}

/** Lines of a UTF-8 buffer, decoded one at a time so the whole file is never one big string. */
export function * bufferLines (buf: Buffer): Generator<string> {
  let start = 0
  const n = buf.length
  while (start < n) {
    let end = buf.indexOf(10, start)
    if (end < 0) end = n
    const stop = end > start && buf[end - 1] === 13 ? end - 1 : end
    yield buf.toString('utf8', start, stop)
    start = end + 1
  }
}

/** Tells the format of a table from its first line that is neither empty nor a "#" comment. */
export function detectPrefixTableFormat (buf: Buffer, source: string): PrefixTableFormat {
  let lineNumber = 0
  for (const line of bufferLines(buf)) {
    lineNumber++
    if (line.length === 0 || line.startsWith('#')) continue
    if (line.includes('\t')) return 'caida-pfx2as'
    if (line.includes(',')) return 'ip-location-db'
    throw new PrefixTableFormatError(source, lineNumber, 'neither an ip-location-db CSV line (commas) nor a CAIDA pfx2as line (tabs)')
  }
  return 'ip-location-db'
}

function addBuffer (builder: PrefixTableBuilder, buf: Buffer, source: string): void {
  const lines = bufferLines(buf)
  if (detectPrefixTableFormat(buf, source) === 'caida-pfx2as') addCaidaPfx2asLines(builder, lines, { source })
  else addIpLocationDbLines(builder, lines, { source })
}

function readError (path: string, err: unknown): PrefixTableFileError {
  const e = err as NodeJS.ErrnoException
  return new PrefixTableFileError(`cannot read prefix table ${path}: ${e.code ?? e.message}`)
}

/**
 * Builds one table from files (default: the @ip-location-db/asn v4 + v6
 * CSVs, read from their prebuilt binary form when it is fresh).
 */
export function loadPrefixTableFiles (paths: readonly string[] = defaultPrefixTablePaths()): PrefixTable {
  return (isDefault(paths) ? loadDefaultPrefixTableBinary(paths) : undefined) ?? loadPrefixTableCsvs(paths)
}

/** Builds one table by parsing the files themselves. */
export function loadPrefixTableCsvs (paths: readonly string[]): PrefixTable {
  const builder = new PrefixTableBuilder()
  for (const path of paths) {
    let buf: Buffer
    try { buf = readFileSync(path) } catch (err) { throw readError(path, err) }
    addBuffer(builder, buf, path)
  }
  return builder.build()
}

/**
 * Like loadPrefixTableFiles but reads without blocking; for swapping in new
 * BGP data in a running node (parsing itself still runs in one go, ~1 s for
 * the full table).
 */
export async function loadPrefixTableFilesAsync (paths: readonly string[] = defaultPrefixTablePaths(), options: { signal?: AbortSignal } = {}): Promise<PrefixTable> {
  const builder = new PrefixTableBuilder()
  for (const path of paths) {
    let buf: Buffer
    try { buf = await readFile(path, { signal: options.signal }) } catch (err) {
      if ((err as Error).name === 'AbortError') throw err
      throw readError(path, err)
    }
    options.signal?.throwIfAborted()
    addBuffer(builder, buf, path)
  }
  return builder.build()
}
