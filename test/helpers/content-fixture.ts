import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ContentStore } from '../../src/store/content-store.js'
import { publishFile } from '../../seeders/publish-file.js'
import type { VerifiedManifest } from '../../src/core/content/manifest.js'
import type { ContentProvider } from '../../src/net/content-provider.js'
import { Bitfield } from '../../src/core/swarm/bitfield.js'

/** A temp dir with a random file published into a store. */
export interface Fixture { dir: string, source: string, data: Uint8Array, store: ContentStore, manifest: VerifiedManifest }

/** Publishes `lengthBytes` of random bytes with `pieceSizeBytes` pieces into a fresh store. */
export async function makeFixture (lengthBytes: number, pieceSizeBytes: number, name = 'item.bin'): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmcdn-test-'))
  const data = new Uint8Array(randomBytes(lengthBytes))
  const source = join(dir, name)
  await writeFile(source, data)
  const store = await ContentStore.open(join(dir, 'store'))
  const { privateKey } = generateKeyPairSync('ed25519')
  const manifest = await publishFile(store, source, privateKey, { pieceSizeBytes })
  return { dir, source, data, store, manifest }
}

/** Wraps a provider to count piece reads (= requests served) and optionally corrupt some pieces. */
export function countingProvider (inner: ContentProvider, corrupt: (index: number) => boolean = () => false): ContentProvider & { reads: number[] } {
  const reads: number[] = []
  return {
    reads,
    has: id => inner.has(id),
    manifest: id => inner.manifest(id),
    readPiece: async (id, index) => {
      reads.push(index)
      const bytes = await inner.readPiece(id, index)
      if (corrupt(index)) { const bad = new Uint8Array(bytes); bad[0] ^= 0xff; return bad }
      return bytes
    }
  }
}

/**
 * Wraps a provider so each piece read takes `delayMs` (test only): the
 * seeder serves one piece at a time per stream, so this caps a source at
 * about pieceSize / delayMs and keeps a download genuinely in progress.
 */
export function slowProvider (inner: ContentProvider, delayMs: number): ContentProvider & { reads: number[] } {
  const reads: number[] = []
  return {
    reads,
    has: id => inner.has(id),
    manifest: id => inner.manifest(id),
    bitfield: inner.bitfield,
    watch: inner.watch,
    readPiece: async (id, index) => {
      await new Promise(resolve => setTimeout(resolve, delayMs))
      reads.push(index)
      return await inner.readPiece(id, index)
    }
  }
}

/**
 * Wraps a provider so it holds every piece but `withheld` until `release`
 * is called (test only): a source that is genuinely still downloading, so
 * a test of play-while-downloading does not rely on timing. Released
 * pieces reach connected downloaders as `have` messages.
 */
export function gatedProvider (inner: ContentProvider, withheld: Iterable<number>): ContentProvider & { release: () => void } {
  const missing = new Set(withheld)
  const watchers = new Set<(index: number) => void>()
  return {
    has: id => inner.has(id),
    manifest: id => inner.manifest(id),
    bitfield: id => {
      const m = inner.manifest(id)
      if (m == null) return undefined
      const b = Bitfield.full(m.pieceCount)
      for (const i of missing) b.clear(i)
      return b
    },
    watch: (_id, onHave) => {
      watchers.add(onHave)
      return () => { watchers.delete(onHave) }
    },
    readPiece: async (id, index) => {
      if (missing.has(index)) throw new Error(`piece ${index} is withheld`)
      return await inner.readPiece(id, index)
    },
    release: () => {
      const released = [...missing]
      missing.clear()
      for (const index of released) for (const w of watchers) w(index)
    }
  }
}
