import { expect } from 'chai'
import { readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { runCli, startCli, type CliProcess } from '../helpers/run-cli.js'

/** No bootstrap from the environment: a link must be enough on its own. */
const NO_ENV = { SWARMCDN_BOOTSTRAP: '' }
const TABLE = 'test/fixtures/loopback-as.csv'

describe('cli: swarmcdn link, and get/stream/peer --get taking a link in place of a content id', function () {
  this.timeout(60_000)
  let fx: Fixture
  let seed: CliProcess
  let multiaddr: string
  let http: string
  const children: CliProcess[] = []

  before(async () => {
    fx = await makeFixture(12 * 16 * 1024 - 55, 16 * 1024, 'talk.mp4')
    await fx.store.close()
    seed = startCli(['seed', '--store', join(fx.dir, 'store'), '--listen', '/ip4/127.1.0.1/tcp/0', '--http', '127.0.0.1:0', '--json', '--prefix-table', TABLE])
    const listening = await seed.waitFor(e => e.event === 'listening', 20_000)
    multiaddr = (listening.multiaddrs as string[])[0]
    http = listening.http as string
  })
  afterEach(async () => { await Promise.all(children.splice(0).map(async c => await c.stop('SIGKILL'))) })
  after(async () => {
    await seed?.stop('SIGKILL')
    await rm(fx.dir, { recursive: true, force: true })
  })

  const link = async (...args: string[]): Promise<string> => {
    const r = await runCli(['link', fx.manifest.contentId, ...args])
    expect(r.code, r.stderr).to.equal(0)
    return r.stdout.trim()
  }
  const done = (stdout: string): Record<string, unknown> | undefined =>
    stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>).find(e => e.event === 'done')

  it('prints one link holding the content id, the peer and the web seed', async () => {
    const text = await link('--peer', multiaddr, '--web-seed', http)
    expect(text.split('\n')).to.have.length(1)
    expect(text).to.equal(`swarmcdn:?xt=urn:swarmcdn:${fx.manifest.contentId}&peer=${multiaddr}&ws=${http}/c/${fx.manifest.contentId}`)
  })

  it('get downloads from a link naming a peer, with no other source given', async () => {
    const out = join(fx.dir, 'by-peer.mp4')
    const r = await runCli(['get', await link('--peer', multiaddr), '-o', out, '--json'], { env: NO_ENV, timeoutMs: 30_000 })
    expect(r.code, r.stderr).to.equal(0)
    expect(done(r.stdout)?.bytesBySource).to.deep.equal({ [multiaddr]: fx.manifest.lengthBytes })
    expect(Buffer.compare(await readFile(out), fx.data)).to.equal(0)
  })

  it('get downloads from a link naming only a web seed, over HTTP', async () => {
    const out = join(fx.dir, 'by-http.mp4')
    const r = await runCli(['get', await link('--web-seed', http), '-o', out, '--json'], { env: NO_ENV, timeoutMs: 30_000 })
    expect(r.code, r.stderr).to.equal(0)
    const d = done(r.stdout)
    expect(d?.bytesBySource).to.deep.equal({ [`${http}/c/${fx.manifest.contentId}`]: fx.manifest.lengthBytes })
    expect(d?.downloadedFromSeedersBytes).to.equal(fx.manifest.lengthBytes)
    expect(Buffer.compare(await readFile(out), fx.data)).to.equal(0)
  })

  it('get finds the holders through a link\'s bootstrap member', async () => {
    const out = join(fx.dir, 'by-overlay.mp4')
    const r = await runCli(['get', await link('--bootstrap', multiaddr), '-o', out, '--json', '--prefix-table', TABLE, '--listen', '/ip4/127.2.0.1/tcp/0'], { env: NO_ENV, timeoutMs: 40_000 })
    expect(r.code, r.stderr).to.equal(0)
    expect(Buffer.compare(await readFile(out), fx.data)).to.equal(0)
  })

  it('stream plays a link\'s item through the gateway', async () => {
    const s = startCli(['stream', await link('--web-seed', http), '-o', join(fx.dir, 'streamed.mp4'), '--json'], { env: NO_ENV })
    children.push(s)
    const streaming = await s.waitFor(e => e.event === 'streaming', 20_000)
    const res = await fetch(streaming.url as string)
    expect(res.status).to.equal(200)
    expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), fx.data)).to.equal(0)
    await s.waitFor(e => e.event === 'done', 20_000)
    expect(await s.stop('SIGINT')).to.equal(0)
  })

  it('peer --get downloads a link\'s item into --output-dir under its name', async () => {
    const dir = join(fx.dir, 'peer-dl')
    const p = startCli(['peer', '--get', await link('--peer', multiaddr), '--output-dir', dir, '--listen', '/ip4/127.3.0.1/tcp/0', '--role', 'leaf', '--json', '--prefix-table', TABLE], { env: NO_ENV })
    children.push(p)
    const d = await p.waitFor(e => e.event === 'download:done' || e.event === 'download:error', 30_000)
    expect(d.event, JSON.stringify(d)).to.equal('download:done')
    expect(await readdir(dir)).to.deep.equal(['talk.mp4'])
    expect(Buffer.compare(await readFile(join(dir, 'talk.mp4')), fx.data)).to.equal(0)
    expect(await p.stop('SIGINT')).to.equal(0)
  })

  const badLinks: Array<[string, string, RegExp]> = [
    ['an unknown parameter', '&tr=http://tracker', /^swarmcdn: unknown link parameter "tr"/],
    ['a peer without its peer id', '&peer=/ip4/127.0.0.1/tcp/1', /^swarmcdn: link peer "\/ip4\/127\.0\.0\.1\/tcp\/1" does not name its peer id/],
    ['no source at all', '', /^swarmcdn: link names no source/]
  ]
  for (const [what, tail, message] of badLinks) {
    it(`get and stream refuse a link with ${what}: one line, exit 1, no file`, async () => {
      const text = `swarmcdn:?xt=urn:swarmcdn:${fx.manifest.contentId}${tail}`
      const out = join(fx.dir, 'never.mp4')
      for (const args of [['get', text, '-o', out], ['stream', text, '-o', out]]) {
        const r = await runCli(args, { env: NO_ENV })
        expect(r.code, args[0]).to.equal(1)
        expect(r.stderr.trim().split('\n'), r.stderr).to.have.length(1)
        expect(r.stderr).to.match(message)
      }
      expect(await readdir(fx.dir)).to.not.include('never.mp4')
    })
  }

  it('link refuses a content id with no way to reach it, and a web seed URL of another item', async () => {
    const none = await runCli(['link', fx.manifest.contentId])
    expect(none.code).to.equal(1)
    expect(none.stderr).to.match(/^swarmcdn: a link needs a way to reach the item/)
    const other = await runCli(['link', fx.manifest.contentId, '--web-seed', `${http}/c/bafkreifualh2ao7dlxyjkhhxpy4kvv4jxjc2pmc6nzvkkdjuv7ax6jmniq`])
    expect(other.code).to.equal(1)
    expect(other.stderr.trim().split('\n')).to.have.length(1)
    expect(other.stderr).to.match(/names item bafkreifualh/)
  })

  it('shows an example on its help page', async () => {
    const r = await runCli(['link', '--help'])
    expect(r.code).to.equal(0)
    expect(r.stdout).to.match(/Example:\n\s+\$ swarmcdn link .*--peer/)
  })
})
