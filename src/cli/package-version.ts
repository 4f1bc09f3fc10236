/**
 * The version of the installed swarmcdn package, read from its
 * package.json at run time so `--version` can never disagree with what
 * npm installed. The file is looked for upwards from this module because
 * this code runs both from dist/src/cli/ (tsc output) and from the bundle
 * in dist/cli/ (see scripts/bundle-cli.js).
 */
import { readFileSync } from 'node:fs'

/** How many folders up from this module package.json may be. */
const MAX_LEVELS_UP = 4

/** The `version` field of swarmcdn's package.json, or 'unknown' when it cannot be found. */
export function packageVersion (from: string | URL = import.meta.url): string {
  let dir = new URL('./', from)
  for (let i = 0; i <= MAX_LEVELS_UP; i++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'swarmcdn' && typeof pkg.version === 'string') return pkg.version
    } catch {}
    dir = new URL('../', dir)
  }
  return 'unknown'
}
