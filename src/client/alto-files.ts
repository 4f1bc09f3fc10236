/**
 * Reads an ALTO network map and cost map (RFC 7285 JSON, e.g. saved from
 * an ISP's ALTO server's responses) from files, and reloads them while a
 * node runs: the file half of core/proximity/alto-map.ts.
 */
import { readFile } from 'node:fs/promises'
import { AltoCosts, AltoMapError } from '../core/proximity/alto-map.js'
import { watchFileReload, type FileReloadReason } from './file-reload.js'

/** Largest map file read, bytes. */
export const MAX_ALTO_FILE_BYTES = 64 * 1024 * 1024

async function readJson (path: string, what: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new AltoMapError(`cannot read the ALTO ${what} ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (err as Error).message}`)
  }
  if (text.length > MAX_ALTO_FILE_BYTES) throw new AltoMapError(`the ALTO ${what} ${path} is over ${MAX_ALTO_FILE_BYTES} bytes`)
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new AltoMapError(`the ALTO ${what} ${path} is not JSON: ${(err as Error).message}`)
  }
}

/** The costs of a network map file and a cost map file that belong together. Throws AltoMapError naming the file. */
export async function readAltoFiles (networkMapPath: string, costMapPath: string): Promise<AltoCosts> {
  const [nm, cm] = await Promise.all([readJson(networkMapPath, 'network map'), readJson(costMapPath, 'cost map')])
  try {
    return AltoCosts.fromJson(nm, cm)
  } catch (err) {
    throw new AltoMapError(`ALTO maps ${networkMapPath} + ${costMapPath}: ${(err as Error).message}`)
  }
}

/** Options of watchAltoFiles. */
export interface AltoReloadInit {
  /** Called with the new network map's version tag after a reload. */
  onReload?: (info: { vtag: { resourceId: string, tag: string }, reason: FileReloadReason }) => void
  /** Called when the new files failed to read or check and the current maps were kept. */
  onError?: (err: Error) => void
  /** Time between checks of the files, ms. Default DEFAULT_FILE_RELOAD_POLL_MS (2 s). */
  pollMs?: number
}

/**
 * Reloads the maps `alto` was read from into it on SIGHUP and when either
 * file changes (file-reload.ts, as the prefix table does); a pair that
 * fails to read, parse or match (a cost map of another network map's
 * vtag) keeps the current maps. Returns the function that stops it.
 */
export function watchAltoFiles (alto: AltoCosts, networkMapPath: string, costMapPath: string, init: AltoReloadInit = {}): () => void {
  return watchFileReload({
    paths: [networkMapPath, costMapPath],
    load: async () => await readAltoFiles(networkMapPath, costMapPath),
    apply: next => { alto.replace(next) },
    onReload: (next, reason) => { init.onReload?.({ vtag: next.vtag, reason }) },
    onError: err => { init.onError?.(err) },
    pollMs: init.pollMs
  }).stop
}
