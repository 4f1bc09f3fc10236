/**
 * Reads an ALTO network map and cost map (RFC 7285 JSON, e.g. saved from
 * an ISP's ALTO server's responses) from files: the file half of
 * core/proximity/alto-map.ts.
 */
import { readFile } from 'node:fs/promises'
import { AltoCosts, AltoMapError } from '../core/proximity/alto-map.js'

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
