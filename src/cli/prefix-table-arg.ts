/**
 * The value of `--table` (asn) and `--prefix-table` (peer, seed, get,
 * stream): a file, relative to the current folder, or the name of a table
 * shipped with swarmcdn. The loopback test tables let a demo model
 * networks on one machine (127.N.0.0/16 is AS 6460N) from any folder,
 * not only inside a checkout of the project.
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { findPackageRoot } from '../client/package-root.js'

/** Tables shipped in the package, by name, as paths inside it. */
export const NAMED_PREFIX_TABLES: Readonly<Record<string, string>> = {
  loopback: 'test/fixtures/loopback-as.csv',
  'loopback-pfx2as': 'test/fixtures/loopback-as.pfx2as'
}

/** One line for the options' help. */
export const PREFIX_TABLE_NAMES_HELP = `a file, or a table shipped with swarmcdn: ${Object.entries(NAMED_PREFIX_TABLES).map(([n, p]) => `${n} (${p})`).join(', ')}`

/**
 * The file `value` stands for, seen from `cwd`: an existing file there
 * first (returned as given, so errors quote it as the user typed it);
 * else a shipped table, by name or by its path in the package (so
 * `test/fixtures/loopback-as.csv` works in any folder), as an absolute
 * path; else `value`, whose read then fails with a clear error.
 */
export function resolvePrefixTableArg (value: string, cwd: string = process.cwd()): string {
  if (existsSync(resolve(cwd, value))) return value
  const shipped = NAMED_PREFIX_TABLES[value] ?? Object.values(NAMED_PREFIX_TABLES).find(p => p === value.replace(/^\.\//, ''))
  const root = shipped === undefined ? undefined : findPackageRoot(import.meta.url)
  return root === undefined || shipped === undefined ? value : join(root.dir, shipped)
}

/** A commander argParser for a repeatable table option. */
export function collectPrefixTable (value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), resolvePrefixTableArg(value)]
}
