import { expect } from 'chai'
import { execFile } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { readFile, readdir, readlink, rm } from 'node:fs/promises'
import { request, type IncomingMessage } from 'node:http'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gatedProvider, makeFixture, slowProvider, type Fixture } from '../helpers/content-fixture.js'
import { startOriginSeeder, type OriginSeeder } from '../../seeders/origin-seeder.js'
import { publishFile } from '../../seeders/publish-file.js'
import { StreamingDownload } from '../../src/client/streaming-download.js'
import { startStreamingGateway, StreamingItems, type StreamingGateway } from '../../src/client/streaming-gateway.js'
import { PartialDownload } from '../../src/client/partial-download.js'
import type { ContentProvider } from '../../src/net/content-provider.js'

const run = promisify(execFile)
const PIECE = 16 * 1024
const LISTEN = ['/ip4/127.0.0.1/tcp/0']

interface Answer { status: number, headers: IncomingMessage['headers'], body: Buffer }

/** One request through node:http (a real client), the whole body read. */
async function fetchRaw (url: string, init: { method?: string, headers?: Record<string, string> } = {}): Promise<Answer> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, agent: false })
    req.once('response', res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.once('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }) })
      res.once('error', reject)
    })
    req.once('error', reject)
    req.end()
  })
}

async function openFilePaths (): Promise<string[]> {
  const out: string[] = []
  for (const fd of await readdir('/proc/self/fd')) {
    try { out.push(await readlink(`/proc/self/fd/${fd}`)) } catch {}
  }
  return out
}

async function eventually (check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  return await check()
}

async function hasTool (name: string): Promise<boolean> {
  try { await run(name, ['-version']); return true } catch { return false }
}

describe('client: streaming gateway over a live download (loopback libp2p)', function () {
  this.timeout(60_000)
  let fx: Fixture
  const cleanups: Array<() => Promise<unknown>> = []
  let outCount = 0
  before(async () => { fx = await makeFixture(4 * 1024 * 1024 + 777, PIECE, 'clip.mp4') })
  after(async () => { await fx.store.close(); await rm(fx.dir, { recursive: true, force: true }) })
  afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

  /** A seeder that serves one piece per `delayMs`, a streaming download from it, and a gateway on that download. */
  async function setup (delayMs: number, provider: ContentProvider = fx.store, contentId = fx.manifest.contentId): Promise<{ seeder: OriginSeeder, dl: StreamingDownload, gw: StreamingGateway, url: string, output: string }> {
    const seeder = await startOriginSeeder({ store: slowProvider(provider, delayMs), listenMultiaddrs: LISTEN })
    cleanups.push(seeder.stop)
    const ac = new AbortController()
    const output = join(fx.dir, `out-${outCount++}.mp4`)
    const dl = await StreamingDownload.start(contentId, output, [{ address: seeder.multiaddrs[0] }], { signal: ac.signal, inFlightBytesPerSource: 4 * PIECE, readAheadBytes: 8 * PIECE })
    cleanups.push(async () => { ac.abort(); await dl.done.catch(() => {}) })
    const items = new StreamingItems()
    items.add(dl)
    const gw = await startStreamingGateway({ downloads: items })
    cleanups.push(gw.close)
    return { seeder, dl, gw, url: gw.urlFor(dl), output }
  }

  it('answers start, middle, suffix and open-ended ranges byte for byte while the item is still downloading', async () => {
    const { dl, url } = await setup(8)
    const n = fx.manifest.lengthBytes
    const data = Buffer.from(fx.data)
    const cases: Array<[string, number, number]> = [
      ['bytes=0-99999', 0, 99_999],
      ['bytes=2000000-2100000', 2_000_000, 2_100_000],
      ['bytes=-50000', n - 50_000, n - 1],
      [`bytes=${n - 30_001}-`, n - 30_001, n - 1]
    ]
    for (const [range, start, end] of cases) {
      const a = await fetchRaw(url, { headers: { range } })
      expect(a.status, range).to.equal(206)
      expect(a.headers['content-range']).to.equal(`bytes ${start}-${end}/${n}`)
      expect(Number(a.headers['content-length'])).to.equal(end - start + 1)
      expect(Buffer.compare(a.body, data.subarray(start, end + 1)), range).to.equal(0)
      expect(dl.isComplete, `download finished before ${range} was answered`).to.equal(false)
    }
    expect(dl.verifiedPieces).to.be.below(fx.manifest.pieceCount)

    const bad = await fetchRaw(url, { headers: { range: `bytes=${n}-` } })
    expect(bad.status).to.equal(416)
    expect(bad.headers['content-range']).to.equal(`bytes */${n}`)

    const head = await fetchRaw(url, { method: 'HEAD' })
    expect(head.status).to.equal(200)
    expect(head.headers['accept-ranges']).to.equal('bytes')
    expect(head.headers['content-type']).to.equal('video/mp4')
    expect(Number(head.headers['content-length'])).to.equal(n)
    expect(head.body.length).to.equal(0)

    const whole = await fetchRaw(url)
    expect(whole.status).to.equal(200)
    expect(Buffer.compare(whole.body, data)).to.equal(0)
    expect(dl.stats()).to.include({ readers: 0, waiters: 0 })
  })

  it('answers a seek far ahead of the download front before the item is complete', async () => {
    // 257 pieces at 8 ms each: about 2 s for the whole item from this source.
    const { dl, url } = await setup(8)
    const n = fx.manifest.lengthBytes
    const started = Date.now()
    const a = await fetchRaw(url, { headers: { range: `bytes=${n - 64 * 1024}-` } })
    const elapsedMs = Date.now() - started
    expect(a.status).to.equal(206)
    expect(Buffer.compare(a.body, Buffer.from(fx.data).subarray(n - 64 * 1024))).to.equal(0)
    expect(dl.isComplete).to.equal(false)
    expect(dl.verifiedPieces, 'pieces verified when the seek was answered').to.be.below(fx.manifest.pieceCount / 2)
    expect(elapsedMs).to.be.below(1500)
  })

  it('fetches the start of the item first before any reader comes, even when ties between pieces are broken at random (a swarm download)', async () => {
    const seeder = await startOriginSeeder({ store: slowProvider(fx.store, 5), listenMultiaddrs: LISTEN })
    cleanups.push(seeder.stop)
    const ac = new AbortController()
    const order: number[] = []
    const dl = await StreamingDownload.start(fx.manifest.contentId, join(fx.dir, `out-${outCount++}.mp4`), [{ address: seeder.multiaddrs[0] }], {
      signal: ac.signal, inFlightBytesPerSource: 4 * PIECE, readAheadBytes: 8 * PIECE, random: Math.random, onPieceStored: index => { order.push(index) }
    })
    cleanups.push(async () => { ac.abort(); await dl.done.catch(() => {}) })
    expect(dl.stats().priorityStartPiece).to.equal(0)
    expect(await eventually(() => order.length >= 8)).to.equal(true)
    // The first 8 pieces stored are the window at the start (in deadline order), not a random draw of 257.
    expect([...order.slice(0, 8)].sort((a, b) => a - b)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7])
  })

  it('moves the priority window to the most recent reader and back when it ends', async () => {
    // The second quarter is withheld, so the item cannot complete (and the download front cannot pass it) however fast the machine is.
    const quarter = Math.floor(fx.manifest.pieceCount / 4)
    const { dl, url } = await setup(10, gatedProvider(fx.store, Array.from({ length: quarter }, (_, i) => quarter + i)))
    const n = fx.manifest.lengthBytes
    const last = fx.manifest.pieceCount - 1
    // Reader A: a player reading the whole item from the start, slowly (it stops reading after the first chunk).
    let stopA!: () => void
    const aStarted = new Promise<void>((resolve, reject) => {
      const req = request(url, { agent: false })
      stopA = () => { req.destroy() }
      req.once('response', res => { res.pause(); resolve() })
      req.once('error', err => { if (!req.destroyed) reject(err) })
      req.end()
    })
    cleanups.push(async () => { stopA() })
    await aStarted
    expect(dl.stats().priorityStartPiece).to.be.below(20)
    // Reader B: a probe of the end of the file, as players do for an index; the window jumps there.
    const seen: number[] = []
    const poll = setInterval(() => { const p = dl.stats().priorityStartPiece; if (p !== undefined) seen.push(p) }, 2)
    const b = await fetchRaw(url, { headers: { range: `bytes=${n - 40_000}-` } }).finally(() => { clearInterval(poll) })
    expect(b.status).to.equal(206)
    expect(Math.max(...seen)).to.be.at.least(last - 3)
    // B ended: the window goes back to A, which is still open: to the first piece A still needs, at most the first withheld one.
    expect(await eventually(() => (dl.stats().priorityStartPiece ?? Infinity) <= quarter, 20_000)).to.equal(true)
    expect(dl.stats().readers).to.equal(1)
    stopA()
    expect(await eventually(() => dl.stats().readers === 0 && dl.stats().waiters === 0)).to.equal(true)
  })

  it('refuses other Host names with 421, sends no CORS header, 404s items not opened, and GET starts nothing', async () => {
    const { gw, url } = await setup(1)
    const evil = await fetchRaw(url, { headers: { host: 'evil.example' } })
    expect(evil.status).to.equal(421)
    const rebound = await fetchRaw(url, { headers: { host: `evil.example:${gw.port}` } })
    expect(rebound.status).to.equal(421)
    const local = await fetchRaw(url, { method: 'HEAD', headers: { host: `localhost:${gw.port}` } })
    expect(local.status).to.equal(200)
    expect(local.headers['access-control-allow-origin']).to.equal(undefined)
    const viaIp = await fetchRaw(url, { headers: { range: 'bytes=0-9', origin: 'http://evil.example' } })
    expect(viaIp.status).to.equal(206)
    expect(viaIp.headers['access-control-allow-origin']).to.equal(undefined)
    const post = await fetchRaw(url, { method: 'POST' })
    expect(post.status).to.equal(405)
    const other = await makeFixture(50_000, PIECE, 'other.bin')
    cleanups.push(async () => { await other.store.close(); await rm(other.dir, { recursive: true, force: true }) })
    const unknown = await fetchRaw(`${gw.url}/c/${other.manifest.contentId}`)
    expect(unknown.status).to.equal(404)
    const wrongName = await fetchRaw(`${gw.url}/c/${fx.manifest.contentId}/other.mp4`)
    expect(wrongName.status).to.equal(404)
  })

  it('survives a client that disconnects mid-response: no waiter or file handle left, later requests work', async () => {
    const { dl, url, output } = await setup(10)
    const partial = PartialDownload.partialPath(output)
    const baseline = (await openFilePaths()).filter(p => p === partial || p === output).length
    await new Promise<void>((resolve, reject) => {
      const req = request(url, { agent: false })
      req.once('response', res => {
        res.once('data', () => { req.destroy(); resolve() })
      })
      req.once('error', err => { if (!req.destroyed) reject(err) })
      req.end()
    })
    expect(await eventually(() => dl.stats().readers === 0 && dl.stats().waiters === 0), `readers/waiters left: ${JSON.stringify(dl.stats())}`).to.equal(true)
    expect(await eventually(async () => (await openFilePaths()).filter(p => p === partial || p === output).length <= baseline)).to.equal(true)
    const again = await fetchRaw(url, { headers: { range: 'bytes=1000000-1000099' } })
    expect(again.status).to.equal(206)
    expect(Buffer.compare(again.body, Buffer.from(fx.data).subarray(1_000_000, 1_000_100))).to.equal(0)
    expect(dl.isComplete).to.equal(false)
  })

  it('lets ffprobe read a video through the gateway while it downloads (moov at the end: ffprobe must seek)', async function () {
    if (!(await hasTool('ffmpeg')) || !(await hasTool('ffprobe'))) {
      this.skip() // ffmpeg/ffprobe not installed (Debian: apt-get install ffmpeg)
    }
    const encoders = (await run('ffmpeg', ['-hide_banner', '-encoders'])).stdout
    const codec = /\blibx264\b/.test(encoders) ? { args: ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast'], name: 'h264' } : { args: ['-c:v', 'mpeg4', '-q:v', '2'], name: 'mpeg4' }
    // The source is a holder that still lacks one piece between the first frames ffprobe decodes and the
    // moov box at the end, so the item cannot complete before ffprobe is done, however fast the machine is.
    const video = join(fx.dir, 'testsrc.mp4')
    await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=duration=5:size=640x480:rate=25,noise=alls=30:allf=t+u', ...codec.args, '-g', '25', video])
    const key = generateKeyPairSync('ed25519').privateKey
    const m = await publishFile(fx.store, video, key, { pieceSizeBytes: PIECE })
    const withheld = Math.floor(m.pieceCount * 0.6)
    const source = gatedProvider(fx.store, [withheld])
    const { dl, url, output } = await setup(0, source, m.contentId)
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_name', '-of', 'json', url], { timeout: 30_000 })
    const progressWhenDone = dl.verifiedPieces
    const probe = JSON.parse(stdout) as { format: { duration: string }, streams: Array<{ codec_name: string }> }
    expect(probe.streams[0].codec_name).to.equal(codec.name)
    expect(Number(probe.format.duration)).to.be.closeTo(5, 0.1)
    expect(dl.isComplete, 'the item completed although a piece was withheld').to.equal(false)
    expect(progressWhenDone, `ffprobe finished with ${progressWhenDone}/${m.pieceCount} pieces`).to.be.below(m.pieceCount)
    // The source gets the last piece (a `have`): the same download completes with the right bytes.
    source.release()
    await dl.done
    expect(Buffer.compare(await readFile(output), await readFile(video))).to.equal(0)
  })
})
