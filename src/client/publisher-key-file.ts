/**
 * The publisher's Ed25519 key on disk: PKCS#8 PEM, file mode 0600, never
 * overwritten silently.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'

/** A key file that is missing, unreadable or not an Ed25519 private key. */
export class PublisherKeyFileError extends Error {
  override name = 'PublisherKeyFileError'
  readonly code = 'ERR_PUBLISHER_KEY_FILE'
}

/** Writes a new Ed25519 private key to `path` (mode 0600); refuses to replace an existing file unless `overwrite`. */
export async function writeNewPublisherKey (path: string, options: { overwrite?: boolean } = {}): Promise<KeyObject> {
  const { privateKey } = generateKeyPairSync('ed25519')
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
  try {
    await writeFile(path, pem, { mode: 0o600, flag: options.overwrite === true ? 'w' : 'wx' })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw new PublisherKeyFileError(`${path} already exists; refusing to overwrite a key (use --force)`)
    throw new PublisherKeyFileError(`cannot write key file ${path}: ${(err as Error).message}`)
  }
  return privateKey
}

/** Reads an Ed25519 private key written by writeNewPublisherKey. */
export async function readPublisherKey (path: string): Promise<KeyObject> {
  let pem: string
  try {
    pem = await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new PublisherKeyFileError(`key file ${path} does not exist (create one with: swarmcdn keygen --out ${path})`)
    throw new PublisherKeyFileError(`cannot read key file ${path}: ${(err as Error).message}`)
  }
  let key: KeyObject
  try {
    key = createPrivateKey(pem)
  } catch {
    throw new PublisherKeyFileError(`${path} is not a PEM private key`)
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new PublisherKeyFileError(`${path} holds a ${key.asymmetricKeyType ?? 'unknown'} key; swarmcdn publishers use Ed25519`)
  }
  return key
}
