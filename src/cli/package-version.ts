/**
 * The version of the installed swarmcdn package, read from its
 * package.json at run time so `--version` can never disagree with what
 * npm installed.
 */
import { findPackageRoot } from '../client/package-root.js'

/** The `version` field of swarmcdn's package.json, or 'unknown' when it cannot be found. */
export function packageVersion (): string {
  return findPackageRoot()?.manifest.version ?? 'unknown'
}
