import { expect } from 'chai'
import { readFile, stat, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Stream } from '@libp2p/interface'
import * as varint from 'uint8-varint'
import { makeFixture, countingProvider, type Fixture } from '../helpers/content-fixture.js'
import { startOriginSeeder, type OriginSeeder } from '../../seeders/origin-seeder.js'
import { downloadContent, DownloadFailedError } from '../../src/client/download-content.js'
import { PartialDownload, type PartialState } from '../../src/client/partial-download.js'
import { createSwarmNode, type SwarmNode } from '../../src/net/swarm-node.js'
import { registerManifestProtocol } from '../../src/net/manifest-protocol.js'
import { XFER_PROTOCOL } from '../../src/net/protocol-ids.js'
import { FramedStream } from '../../src/net/framed-stream.js'
import { decodeXferMessage, encodeXferMessage, MAX_XFER_FRAME_BYTES } from '../../src/net/xfer-codec.js'
import { Bitfield } from '../../src/core/swarm/bitfield.js'
import type { ContentProvider } from '../../src/net/content-provider.js'

const PIECE = 64 * 1024
const LISTEN = ['/ip4/127.0.0.1/tcp/0']

/** A node that serves manifests honestly but misbehaves on xfer after the handshake. */
async function evilNode (provider: ContentProvider, onRequest: (stream: Stream) => void): Promise<SwarmNode> {
  const node = await createSwarmNode({ listenMultiaddrs: LISTEN })
  await registerManifestProtocol(node, provider)
  await node.handle(XFER_PROTOCOL, async (stream: Stream) => {
    const framed = new FramedStream(stream, { maxFrameBytes: 64 * 1024 })
    const signal = AbortSignal.timeout(10_000)
    const hs = decodeXferMessage((await framed.read(signal))!)
    if (hs.type !== 'handshake') return
    const m = provider.manifest(hs.contentId)!
    await framed.write(encodeXferMessage({ type: 'handshake', contentId: hs.contentId, bitfield: Bitfield.full(m.pieceCount).toBytes() }), signal)
    await framed.read(signal) // the first request
    onRequest(stream)
  })
  return node
}

describe('net: download over libp2p (loopback)', function () {
  this.timeout(30_000)
  let fx: Fixture
  const cleanups: Array<() => Promise<unknown>> = []
  before(async () => { fx = await makeFixture(2 * 1024 * 1024 + 123, PIECE) })
  after(async () => { await fx.store.close(); await rm(fx.dir, { recursive: true, force: true }) })
  afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

  async function seeder (provider: ContentProvider = fx.store): Promise<OriginSeeder> {
    const s = await startOriginSeeder({ store: provider, listenMultiaddrs: LISTEN })
    cleanups.push(s.stop)
    return s
  }
  async function nodeAddr (node: SwarmNode): Promise<string> {
    cleanups.push(async () => { await node.stop() })
    return node.getMultiaddrs()[0].toString()
  }
  const out = (name: string): string => join(fx.dir, name)

  it('downloads a published item from one seeder, byte for byte, and leaves no partial files', async () => {
    const s = await seeder()
    const res = await downloadContent(fx.manifest.contentId, out('a.bin'), [{ address: s.multiaddrs[0] }])
    expect(res.fetchedPieces).to.equal(fx.manifest.pieceCount)
    expect(Buffer.compare(await readFile(out('a.bin')), fx.data)).to.equal(0)
    await expectMissing(PartialDownload.partialPath(out('a.bin')))
    await expectMissing(PartialDownload.statePath(out('a.bin')))
  })

  it('fails with a clear error against a corrupt seeder and writes none of its bad bytes', async () => {
    const bad = countingProvider(fx.store, i => i === 3)
    const s = await seeder(bad)
    const err = await downloadContent(fx.manifest.contentId, out('b.bin'), [{ address: s.multiaddrs[0] }]).then(() => null, e => e)
    expect(err).to.be.instanceOf(DownloadFailedError)
    expect(err.message).to.match(/corrupt piece/)
    await expectMissing(out('b.bin'))
    const state = JSON.parse(await readFile(PartialDownload.statePath(out('b.bin')), 'utf8')) as PartialState
    const verified = Bitfield.fromBytes(Buffer.from(state.verified, 'base64'), fx.manifest.pieceCount)
    expect(verified.get(3)).to.equal(false)
    const partial = await readFile(PartialDownload.partialPath(out('b.bin')))
    expect(partial.subarray(3 * PIECE, 4 * PIECE).every(b => b === 0)).to.equal(true)
  })

  it('bans a corrupt source and finishes from a good one', async () => {
    const bad = await seeder(countingProvider(fx.store, i => i % 2 === 0))
    const good = await seeder()
    const errors: string[] = []
    await downloadContent(fx.manifest.contentId, out('c.bin'), [{ address: bad.multiaddrs[0] }, { address: good.multiaddrs[0] }], {
      onSourceError: (_a, e) => errors.push(e.name)
    })
    expect(errors).to.include('PieceHashMismatchError')
    expect(Buffer.compare(await readFile(out('c.bin')), fx.data)).to.equal(0)
  })

  it('resets a source that sends an oversized frame and finishes from a good one', async () => {
    const evil = await evilNode(fx.store, stream => { stream.send(varint.encode(MAX_XFER_FRAME_BYTES * 4)); stream.send(new Uint8Array(100)) })
    const good = await seeder()
    const errors: string[] = []
    await downloadContent(fx.manifest.contentId, out('d.bin'), [{ address: await nodeAddr(evil) }, { address: good.multiaddrs[0] }], {
      onSourceError: (_a, e) => errors.push(e.message)
    })
    expect(errors.join()).to.match(/over the \d+-byte limit/)
    expect(Buffer.compare(await readFile(out('d.bin')), fx.data)).to.equal(0)
  })

  it('reports a truncated frame from the only source as a clear failure', async () => {
    const evil = await evilNode(fx.store, stream => {
      stream.send(varint.encode(PIECE + 20)); stream.send(new Uint8Array(1000))
      void stream.close()
    })
    const err = await downloadContent(fx.manifest.contentId, out('e.bin'), [{ address: await nodeAddr(evil) }]).then(() => null, e => e)
    expect(err).to.be.instanceOf(DownloadFailedError)
    expect(err.message).to.match(/closed the stream in the middle of a frame/)
    await expectMissing(out('e.bin'))
  })

  it('refuses a manifest that does not match the content id and uses the next source', async () => {
    const other = await makeFixture(100_000, PIECE, 'other.bin')
    cleanups.push(async () => { await other.store.close(); await rm(other.dir, { recursive: true, force: true }) })
    const liar: ContentProvider = { has: () => true, manifest: () => other.manifest, readPiece: async (id, i) => await other.store.readPiece(other.manifest.contentId, i) }
    const liarNode = await createSwarmNode({ listenMultiaddrs: LISTEN })
    await registerManifestProtocol(liarNode, liar)
    const liarAddr = await nodeAddr(liarNode)
    const alone = await downloadContent(fx.manifest.contentId, out('f.bin'), [{ address: liarAddr }]).then(() => null, e => e)
    expect(alone).to.be.instanceOf(DownloadFailedError)
    expect(alone.message).to.match(/does not match the content id/)
    const good = await seeder()
    await downloadContent(fx.manifest.contentId, out('f.bin'), [{ address: liarAddr }, { address: good.multiaddrs[0] }])
    expect(Buffer.compare(await readFile(out('f.bin')), fx.data)).to.equal(0)
  })

  it('resumes after an abort, fetching again at most the pieces that were in flight', async () => {
    const counted = countingProvider(fx.store)
    const s = await seeder(counted)
    const ac = new AbortController()
    let verifiedBeforeAbort = 0
    const perSource = 4
    const first = await downloadContent(fx.manifest.contentId, out('g.bin'), [{ address: s.multiaddrs[0] }], {
      signal: ac.signal,
      maxRequestsPerSource: perSource,
      onProgress: p => { if (p.verifiedPieces >= 10 && !ac.signal.aborted) { verifiedBeforeAbort = p.verifiedPieces; ac.abort(new Error('test abort')) } }
    }).then(() => null, e => e)
    expect(first?.message).to.equal('test abort')
    await expectMissing(out('g.bin'))
    const readsFirst = counted.reads.length
    const state = JSON.parse(await readFile(PartialDownload.statePath(out('g.bin')), 'utf8')) as PartialState
    const saved = Bitfield.fromBytes(Buffer.from(state.verified, 'base64'), fx.manifest.pieceCount).count
    expect(saved).to.be.at.least(verifiedBeforeAbort)

    const second = await downloadContent(fx.manifest.contentId, out('g.bin'), [{ address: s.multiaddrs[0] }], { maxRequestsPerSource: perSource })
    expect(second.resumedPieces).to.equal(saved)
    expect(second.fetchedPieces).to.equal(fx.manifest.pieceCount - saved)
    const readsSecond = counted.reads.length - readsFirst
    expect(readsSecond).to.equal(fx.manifest.pieceCount - saved)
    // Served twice at most: the requests that were in flight when we stopped.
    expect(readsFirst + readsSecond - fx.manifest.pieceCount).to.be.at.most(perSource)
    expect(Buffer.compare(await readFile(out('g.bin')), fx.data)).to.equal(0)
  })
})

async function expectMissing (path: string): Promise<void> {
  const st = await stat(path).catch(() => null)
  expect(st, `${path} should not exist`).to.equal(null)
}
