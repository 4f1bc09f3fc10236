/**
 * A file argument that may name a file shipped with swarmcdn: the
 * scenarios of `sim` (sim/scenarios/NAME.json). The README's examples use
 * those paths; an installed swarmcdn has them in its own folder, not in
 * the user's.
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { findPackageRoot } from '../client/package-root.js'

/** Folder of the shipped simulator scenarios, inside the package. */
export const SHIPPED_SCENARIO_DIR = 'sim/scenarios'

/**
 * The scenario file `value` stands for, seen from `cwd`: an existing file
 * there first, as given; else a shipped scenario by name (`flash-crowd-small`)
 * or by its path in the package (`sim/scenarios/flash-crowd-small.json`),
 * as an absolute path; else `value`, for the read to report.
 */
export function resolveScenarioArg (value: string, cwd: string = process.cwd()): string {
  if (existsSync(resolve(cwd, value))) return value
  const root = findPackageRoot(import.meta.url)
  if (root === undefined) return value
  const relative = value.replace(/^\.\//, '')
  const candidates = [relative.startsWith(`${SHIPPED_SCENARIO_DIR}/`) ? relative : undefined, /^[\w.-]+$/.test(value) ? `${SHIPPED_SCENARIO_DIR}/${value.endsWith('.json') ? value : `${value}.json`}` : undefined]
  const found = candidates.find(c => c !== undefined && existsSync(join(root.dir, c)))
  return found === undefined ? value : join(root.dir, found)
}
