/**
 * A node's libp2p identity on disk (`seed --identity FILE`, `peer
 * --identity FILE`), so its peer id survives restarts and bootstrap lists
 * that name it stay valid.
 *
 * Rules: the file holds the private key in libp2p's protobuf encoding
 * (what `privateKeyToProtobuf` writes, readable by other libp2p tools).
 * A missing file is created with a fresh Ed25519 key, mode 0600, with
 * O_EXCL (two processes starting at once never overwrite each other's
 * key: the loser reads the winner's). An existing file is used only when
 * no one but its owner can read or write it (no group/other bits) and it
 * decodes as a private key; anything else is an IdentityFileError naming
 * the file and the fix, never a silent new identity.
 */
import { open, readFile, stat } from 'node:fs/promises'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'

/** An identity file that is unreadable, corrupt or readable by others. */
export class IdentityFileError extends Error {
  override name = 'IdentityFileError'
  readonly code = 'ERR_IDENTITY_FILE'
}

/** Largest identity file read, bytes (an RSA-4096 key is ~2.4 KB; Ed25519 is 68). */
export const MAX_IDENTITY_FILE_BYTES = 16 * 1024

/** Loads the key in `path`, or creates it (see the file's rules). `created` says which. */
export async function loadOrCreateIdentity (path: string): Promise<{ privateKey: PrivateKey, created: boolean }> {
  const created = await createIfMissing(path)
  if (created != null) return { privateKey: created, created: true }
  return { privateKey: await readIdentity(path), created: false }
}

async function createIfMissing (path: string): Promise<PrivateKey | undefined> {
  const key = await generateKeyPair('Ed25519')
  let handle
  try {
    handle = await open(path, 'wx', 0o600)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return undefined
    throw new IdentityFileError(`cannot create identity file ${path}: ${(err as Error).message}`)
  }
  try {
    await handle.writeFile(privateKeyToProtobuf(key))
    await handle.sync()
  } finally {
    await handle.close()
  }
  return key
}

async function readIdentity (path: string): Promise<PrivateKey> {
  let mode: number
  let size: number
  try {
    const st = await stat(path)
    mode = st.mode
    size = st.size
  } catch (err) {
    throw new IdentityFileError(`cannot read identity file ${path}: ${(err as Error).message}`)
  }
  if ((mode & 0o170000) !== 0o100000) throw new IdentityFileError(`identity file ${path} is not a regular file`)
  if ((mode & 0o077) !== 0) {
    throw new IdentityFileError(`identity file ${path} is readable or writable by others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); run: chmod 600 ${path}`)
  }
  if (size > MAX_IDENTITY_FILE_BYTES) throw new IdentityFileError(`identity file ${path} is ${size} bytes: not a libp2p private key`)
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err) {
    throw new IdentityFileError(`cannot read identity file ${path}: ${(err as Error).message}`)
  }
  try {
    return privateKeyFromProtobuf(bytes)
  } catch {
    throw new IdentityFileError(`identity file ${path} is corrupt (not a libp2p private key); move it away to start with a new identity (a new peer id)`)
  }
}
