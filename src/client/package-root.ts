/**
 * The folder of the installed swarmcdn package (the one holding its
 * package.json), found upwards from a module. Looked up rather than
 * written as a relative path because the same code runs from tsc's output
 * (dist/src/...) and from the bundle (dist/cli/...), at other depths.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** How many folders up from the module package.json may be. */
const MAX_LEVELS_UP = 5

/** The package's root folder and package.json, or undefined when not found. */
export function findPackageRoot (from: string | URL = import.meta.url): { dir: string, manifest: { name: string, version?: string } } | undefined {
  let dir = new URL('./', from)
  for (let i = 0; i <= MAX_LEVELS_UP; i++) {
    try {
      const manifest = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string, version?: string }
      if (manifest.name === 'swarmcdn') return { dir: fileURLToPath(dir), manifest: { name: manifest.name, version: manifest.version } }
    } catch {}
    dir = new URL('../', dir)
  }
  return undefined
}
