import { expect } from 'chai'
import { createServer, type Server } from 'node:http'
import { readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { startWebSeed, type WebSeed } from '../../seeders/web-seed.js'
import { downloadContent, DownloadFailedError } from '../../src/client/download-content.js'
import { createSwarmNode, type SwarmNode } from '../../src/net/swarm-node.js'
import { webSeedItemUrl } from '../../src/client/share-link.js'
import { webSeedHostMultiaddr } from '../../src/client/web-seed-source.js'

describe('client: a web seed as a download source', function () {
  this.timeout(30_000)
  let fx: Fixture
  let seed: WebSeed
  let node: SwarmNode
  const servers: Server[] = []
  before(async () => {
    fx = await makeFixture(20 * 16 * 1024 + 123, 16 * 1024, 'clip.webm')
    seed = await startWebSeed({ store: fx.store })
    node = await createSwarmNode()
  })
  after(async () => {
    await node?.stop()
    await seed?.close()
    await Promise.all(servers.map(async s => { s.closeAllConnections(); await new Promise(resolve => s.close(resolve)) }))
    await fx.store.close()
    await rm(fx.dir, { recursive: true, force: true })
  })

  it('downloads an item by range requests, verified, its bytes counted as an origin\'s', async () => {
    const out = join(fx.dir, 'copy.webm')
    const url = webSeedItemUrl(seed.url, fx.manifest.contentId)
    let origin: boolean | undefined
    const r = await downloadContent(fx.manifest.contentId, out, [{ address: url }], { node, onSourceConnected: (_a, info) => { origin = info.announcedOrigin } })
    expect(r.fetchedPieces).to.equal(fx.manifest.pieceCount)
    expect(origin).to.equal(true)
    expect(Buffer.compare(await readFile(out), fx.data)).to.equal(0)
  })

  it('asks for consecutive pieces in shared ranges, far fewer requests than pieces', async () => {
    const ranges: string[] = []
    const server = createServer((req, res) => {
      if (req.headers.range != null) ranges.push(req.headers.range)
      void (async () => {
        const real = await fetch(`${seed.url}${req.url ?? ''}`, { method: req.method, headers: req.headers.range != null ? { range: req.headers.range } : {} })
        const headers: Record<string, string> = {}
        real.headers.forEach((v, k) => { headers[k] = v })
        res.writeHead(real.status, headers)
        res.end(req.method === 'HEAD' ? undefined : Buffer.from(await real.arrayBuffer()))
      })().catch(() => { res.destroy() })
    })
    servers.push(server)
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    const out = join(fx.dir, 'ranged.webm')
    const r = await downloadContent(fx.manifest.contentId, out, [{ address: webSeedItemUrl(`http://127.0.0.1:${port}`, fx.manifest.contentId) }], { node, maxRequestsPerSource: 8 })
    expect(r.fetchedPieces).to.equal(fx.manifest.pieceCount)
    expect(Buffer.compare(await readFile(out), fx.data)).to.equal(0)
    // 21 pieces: the first 8 go in one range, later ones 4 at a time (or fewer when nothing else is on its way).
    expect(ranges.length, ranges.join(' ')).to.be.within(2, 10)
  })

  it('bans a web seed that sends a corrupt piece and writes none of its bytes', async () => {
    // A server that serves the real manifest but flips a byte of every range.
    const server = createServer((req, res) => {
      void (async () => {
        const real = await fetch(`${seed.url}${req.url ?? ''}`, { method: req.method, headers: req.headers.range != null ? { range: req.headers.range } : {} })
        const body = Buffer.from(await real.arrayBuffer())
        if (req.headers.range != null && body.length > 0) body[0] ^= 0xff
        const headers: Record<string, string> = {}
        real.headers.forEach((v, k) => { headers[k] = v })
        res.writeHead(real.status, headers)
        res.end(req.method === 'HEAD' ? undefined : body)
      })().catch(() => { res.destroy() })
    })
    servers.push(server)
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    const out = join(fx.dir, 'bad.webm')
    const err = await downloadContent(fx.manifest.contentId, out, [{ address: webSeedItemUrl(`http://127.0.0.1:${port}`, fx.manifest.contentId) }], { node })
      .then(() => undefined, (e: unknown) => e as Error)
    expect(err).to.be.instanceOf(DownloadFailedError)
    expect(err?.message).to.match(/corrupt piece/)
    expect(await stat(out).catch(() => undefined)).to.equal(undefined)
  })

  it('places a web seed by its host, as a multiaddr', () => {
    expect(webSeedHostMultiaddr('http://127.1.0.1:8080/c/x')).to.equal('/ip4/127.1.0.1/tcp/8080')
    expect(webSeedHostMultiaddr('https://[::1]/c/x')).to.equal('/ip6/::1/tcp/443')
    expect(webSeedHostMultiaddr('http://cdn.example.org/c/x')).to.equal('/dns/cdn.example.org/tcp/80')
    expect(webSeedHostMultiaddr('not a url')).to.equal(undefined)
  })

  it('says a web seed does not have an item it answers 404 for', async () => {
    const err = await downloadContent(fx.manifest.contentId, join(fx.dir, 'none.webm'), [{ address: `${seed.url}/c/bafkreifualh2ao7dlxyjkhhxpy4kvv4jxjc2pmc6nzvkkdjuv7ax6jmniq` }], { node })
      .then(() => undefined, (e: unknown) => e as Error)
    expect(err).to.be.instanceOf(DownloadFailedError)
    expect(err?.message).to.match(/no source has/)
  })
})
