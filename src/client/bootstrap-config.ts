/**
 * Where a peer's bootstrap list comes from: `--bootstrap` flags, the
 * `SWARMCDN_BOOTSTRAP` environment variable (comma or space separated) and
 * a JSON config file (`--config FILE`: `{ "bootstrap": ["/ip4/.../p2p/..."] }`).
 * All three are merged in that order, duplicates dropped; every entry must
 * be a multiaddr ending in /p2p/PEER_ID, checked here so a typo fails at
 * start with the source named.
 */
import { readFile } from 'node:fs/promises'
import { multiaddr } from '@multiformats/multiaddr'

/** Environment variable holding bootstrap multiaddrs. */
export const BOOTSTRAP_ENV = 'SWARMCDN_BOOTSTRAP'

/** A bootstrap entry or config file that cannot be used. */
export class BootstrapConfigError extends Error {
  override name = 'BootstrapConfigError'
  readonly code = 'ERR_BOOTSTRAP_CONFIG'
}

/** Sources of bootstrap addresses. */
export interface BootstrapSources {
  /** From repeated `--bootstrap` flags. */
  flags?: string[]
  /** The value of SWARMCDN_BOOTSTRAP, if set. */
  env?: string
  /** Path of a JSON config file, if given. */
  configFile?: string
}

function checkEntry (addr: string, source: string): string {
  let ok = false
  try { ok = multiaddr(addr).getComponents().some(c => c.name === 'p2p') } catch {}
  if (!ok) throw new BootstrapConfigError(`${source}: not a multiaddr ending in /p2p/PEER_ID: ${JSON.stringify(addr)}`)
  return addr
}

/** Reads a config file's bootstrap list. */
export async function readBootstrapConfig (path: string): Promise<string[]> {
  let text: string
  try { text = await readFile(path, 'utf8') } catch (err) {
    throw new BootstrapConfigError(`cannot read config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  let json: unknown
  try { json = JSON.parse(text) } catch (err) { throw new BootstrapConfigError(`config ${path} is not JSON: ${(err as Error).message}`) }
  const list = (json as { bootstrap?: unknown })?.bootstrap
  if (list === undefined) return []
  if (!Array.isArray(list) || !list.every(x => typeof x === 'string')) throw new BootstrapConfigError(`config ${path}: "bootstrap" must be an array of multiaddr strings`)
  return list.map(a => checkEntry(a, path))
}

/** Merges the sources into one validated, de-duplicated list. */
export async function resolveBootstrap (sources: BootstrapSources): Promise<string[]> {
  const out: string[] = []
  for (const a of sources.flags ?? []) out.push(checkEntry(a, '--bootstrap'))
  for (const a of (sources.env ?? '').split(/[\s,]+/).filter(s => s.length > 0)) out.push(checkEntry(a, BOOTSTRAP_ENV))
  if (sources.configFile != null) out.push(...await readBootstrapConfig(sources.configFile))
  return [...new Set(out)]
}
