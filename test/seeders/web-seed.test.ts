import { expect } from 'chai'
import { waitFor } from '../helpers/wait-for.js'
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'
import { mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises'
import { request, type IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { contentIdOf } from '../../src/core/content/content-id.js'
import { openSignedManifest, type VerifiedManifest } from '../../src/core/content/manifest.js'
import { ContentStore } from '../../src/store/content-store.js'
import { publishFile } from '../../seeders/publish-file.js'
import { MANIFEST_MEDIA_TYPE, startWebSeed, type WebSeed } from '../../seeders/web-seed.js'

/** Paths of the files this process has open, from /proc (Linux). */
async function openFilePaths (): Promise<string[]> {
  const out: string[] = []
  for (const fd of await readdir('/proc/self/fd')) {
    try { out.push(await readlink(`/proc/self/fd/${fd}`)) } catch {}
  }
  return out
}

/** Polls `check` every 20 ms until it holds, for at most `timeoutMs`. */
async function eventually (check: () => Promise<boolean>, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  return check()
}

/** A GET/HEAD through node:http that resolves with the response before reading the body. */
async function open (url: string, init: { method?: string, headers?: Record<string, string> } = {}): Promise<{ res: IncomingMessage, destroy: () => void }> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, agent: false })
    req.once('response', res => { resolve({ res, destroy: () => req.destroy() }) })
    req.once('error', reject)
    req.end()
  })
}

async function readAll (res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of res) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

describe('seeders/web-seed', function () {
  this.timeout(20_000)
  let dir: string
  let store: ContentStore
  let seed: WebSeed
  let key: KeyObject
  let movie: VerifiedManifest
  let movieBytes: Buffer
  let big: VerifiedManifest
  let empty: VerifiedManifest
  let item: (m: VerifiedManifest, suffix?: string) => string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarmcdn-webseed-'))
    key = generateKeyPairSync('ed25519').privateKey
    store = await ContentStore.open(join(dir, 'store'))
    movieBytes = randomBytes(3 * 1024 * 1024 + 12345)
    await writeFile(join(dir, 'movie.mp4'), movieBytes)
    movie = await publishFile(store, join(dir, 'movie.mp4'), key, { pieceSizeBytes: 256 * 1024 })
    await writeFile(join(dir, 'big.bin'), randomBytes(48 * 1024 * 1024))
    big = await publishFile(store, join(dir, 'big.bin'), key)
    await writeFile(join(dir, 'empty.txt'), new Uint8Array(0))
    empty = await publishFile(store, join(dir, 'empty.txt'), key)
    seed = await startWebSeed({ store, host: '127.0.0.1', port: 0 })
    item = (m, suffix = '') => `${seed.url}/c/${m.contentId}${suffix}`
  })

  after(async () => {
    await seed?.close()
    await store?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('listens on the loopback address and port it reports', () => {
    expect(seed.port).to.be.greaterThan(0)
    expect(seed.url).to.equal(`http://127.0.0.1:${seed.port}`)
  })

  it('serves the whole item with 200 and the right headers', async () => {
    const res = await fetch(item(movie))
    expect(res.status).to.equal(200)
    expect(res.headers.get('content-type')).to.equal('video/mp4')
    expect(res.headers.get('content-length')).to.equal(String(movieBytes.length))
    expect(res.headers.get('accept-ranges')).to.equal('bytes')
    expect(res.headers.get('etag')).to.equal(`"${movie.contentId}"`)
    expect(res.headers.get('content-range')).to.equal(null)
    expect(Buffer.from(await res.arrayBuffer()).equals(movieBytes)).to.equal(true)
  })

  it('serves byte-exact ranges at the start, middle and end, suffix and open-ended', async () => {
    const n = movieBytes.length
    const cases: Array<[string, number, number]> = [
      ['bytes=0-99', 0, 99],
      ['bytes=1000000-1999999', 1000000, 1999999],
      [`bytes=${n - 10}-${n - 1}`, n - 10, n - 1],
      [`bytes=${n - 10}-${n + 1000}`, n - 10, n - 1],
      ['bytes=-500', n - 500, n - 1],
      [`bytes=${n - 777}-`, n - 777, n - 1],
      ['bytes=0-0', 0, 0]
    ]
    for (const [range, start, end] of cases) {
      const res = await fetch(item(movie), { headers: { range } })
      expect(res.status, range).to.equal(206)
      expect(res.headers.get('content-range'), range).to.equal(`bytes ${start}-${end}/${n}`)
      expect(res.headers.get('content-length'), range).to.equal(String(end - start + 1))
      const body = Buffer.from(await res.arrayBuffer())
      expect(body.equals(movieBytes.subarray(start, end + 1)), range).to.equal(true)
    }
  })

  it('answers a range past the end with 416 and bytes */N', async () => {
    const res = await fetch(item(movie), { headers: { range: `bytes=${movieBytes.length}-` } })
    expect(res.status).to.equal(416)
    expect(res.headers.get('content-range')).to.equal(`bytes */${movieBytes.length}`)
    expect((await res.arrayBuffer()).byteLength).to.equal(0)
  })

  it('ignores an invalid range (bytes=5-2) and several ranges, sending the whole item', async () => {
    for (const range of ['bytes=5-2', 'bytes=0-1,5-6', 'lines=1-2']) {
      const res = await fetch(item(movie), { headers: { range } })
      expect(res.status, range).to.equal(200)
      expect((await res.arrayBuffer()).byteLength, range).to.equal(movieBytes.length)
    }
  })

  it('answers HEAD with the headers of GET and no body', async () => {
    const { res } = await open(item(movie), { method: 'HEAD', headers: { range: 'bytes=10-19' } })
    expect(res.statusCode).to.equal(206)
    expect(res.headers['content-length']).to.equal('10')
    expect(res.headers['content-range']).to.equal(`bytes 10-19/${movieBytes.length}`)
    expect(res.headers['content-type']).to.equal('video/mp4')
    expect((await readAll(res)).length).to.equal(0)
    const whole = await open(item(movie), { method: 'HEAD' })
    expect(whole.res.statusCode).to.equal(200)
    expect(whole.res.headers['content-length']).to.equal(String(movieBytes.length))
    expect((await readAll(whole.res)).length).to.equal(0)
  })

  it('serves the item under its own file name, and 404 under another', async () => {
    const res = await fetch(item(movie, '/movie.mp4'), { headers: { range: 'bytes=-3' } })
    expect(res.status).to.equal(206)
    expect(Buffer.from(await res.arrayBuffer()).equals(movieBytes.subarray(-3))).to.equal(true)
    expect(res.headers.get('content-disposition')).to.equal('inline; filename="movie.mp4"; filename*=UTF-8\'\'movie.mp4')
    const wrong = await fetch(item(movie, '/movie.mkv'))
    expect(wrong.status).to.equal(404)
    await wrong.arrayBuffer()
  })

  it('finds an item by a percent-encoded non-ASCII name and names it in Content-Disposition', async () => {
    const m = await publishFile(store, join(dir, 'movie.mp4'), key, { name: 'café "cut".mp4', pieceSizeBytes: 256 * 1024 })
    const res = await fetch(item(m, '/' + encodeURIComponent(m.name)), { headers: { range: 'bytes=0-3' } })
    expect(res.status).to.equal(206)
    expect(Buffer.from(await res.arrayBuffer()).equals(movieBytes.subarray(0, 4))).to.equal(true)
    expect(res.headers.get('content-disposition')).to.equal('inline; filename="caf_ _cut_.mp4"; filename*=UTF-8\'\'caf%C3%A9%20%22cut%22.mp4')
  })

  it('serves the signed manifest, which verifies against the content id', async () => {
    const res = await fetch(item(movie, '/manifest'))
    expect(res.status).to.equal(200)
    expect(res.headers.get('content-type')).to.equal(MANIFEST_MEDIA_TYPE)
    const opened = openSignedManifest(new Uint8Array(await res.arrayBuffer()), movie.contentId)
    expect(opened.lengthBytes).to.equal(movieBytes.length)
    expect(opened.name).to.equal('movie.mp4')
    const head = await fetch(item(movie, '/manifest'), { method: 'HEAD' })
    expect(head.headers.get('content-length')).to.equal(String(movie.signedBytes.length))
  })

  it('answers 304 to a matching If-None-Match and ignores Range when If-Range does not match', async () => {
    const cached = await fetch(item(movie), { headers: { 'if-none-match': `"${movie.contentId}"` } })
    expect(cached.status).to.equal(304)
    const stale = await fetch(item(movie), { headers: { range: 'bytes=0-9', 'if-range': '"something-else"' } })
    expect(stale.status).to.equal(200)
    expect((await stale.arrayBuffer()).byteLength).to.equal(movieBytes.length)
    const fresh = await fetch(item(movie), { headers: { range: 'bytes=0-9', 'if-range': `"${movie.contentId}"` } })
    expect(fresh.status).to.equal(206)
    expect((await fresh.arrayBuffer()).byteLength).to.equal(10)
  })

  it('answers 404 for an id it does not hold and for other paths, 400 for a malformed id', async () => {
    const unknown = contentIdOf(randomBytes(64))
    const cases: Array<[string, number]> = [
      [`/c/${unknown}`, 404], [`/c/${unknown}/manifest`, 404], ['/', 404], ['/c', 404],
      ['/c/../../etc/passwd', 404], [`/c/${movie.contentId}/a/b`, 404],
      ['/c/not-a-cid', 400], ['/c/%2e%2e%2fetc', 400], ['/c/', 400],
      // a CIDv0 / dag-pb id is a valid CID but not a swarmcdn content id
      ['/c/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG', 400]
    ]
    for (const [path, status] of cases) {
      const res = await fetch(seed.url + path)
      expect(res.status, path).to.equal(status)
      expect(res.headers.get('content-type'), path).to.match(/^text\/plain/)
      const text = await res.text()
      expect(text.split('\n').filter(l => l.length > 0), path).to.have.lengthOf(1)
    }
  })

  it('answers other methods with 405 and Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await fetch(item(movie), { method })
      expect(res.status, method).to.equal(405)
      expect(res.headers.get('allow'), method).to.equal('GET, HEAD')
      await res.arrayBuffer()
    }
  })

  it('serves a zero-length item: 200 empty, 416 for any int-range', async () => {
    const res = await fetch(item(empty))
    expect(res.status).to.equal(200)
    expect(res.headers.get('content-length')).to.equal('0')
    expect(res.headers.get('content-type')).to.match(/^text\/plain/)
    expect((await res.arrayBuffer()).byteLength).to.equal(0)
    const ranged = await fetch(item(empty), { headers: { range: 'bytes=0-' } })
    expect(ranged.status).to.equal(416)
    expect(ranged.headers.get('content-range')).to.equal('bytes */0')
    const suffix = await fetch(item(empty), { headers: { range: 'bytes=-10' } })
    expect(suffix.status).to.equal(200)
    expect((await suffix.arrayBuffer()).byteLength).to.equal(0)
  })

  it('closes the item file when a client disconnects mid-response and keeps serving', async () => {
    const dataPath = store.dataPath(big.contentId)
    const holdsFile = async (): Promise<boolean> => (await openFilePaths()).includes(dataPath)
    expect(await holdsFile()).to.equal(false)
    const { res, destroy } = await open(item(big))
    expect(res.statusCode).to.equal(200)
    await new Promise(resolve => res.once('data', resolve))
    res.pause()
    // 48 MiB cannot all sit in loopback socket buffers, so the server is mid-body now
    expect(await holdsFile()).to.equal(true)
    destroy()
    expect(await eventually(async () => !(await holdsFile()))).to.equal(true)
    const again = await fetch(item(big), { headers: { range: 'bytes=-4' } })
    expect(again.status).to.equal(206)
    expect((await again.arrayBuffer()).byteLength).to.equal(4)
  })

  it('counts the bytes it serves per item, also in prom-client', async () => {
    const before = seed.metrics.bytesServed(movie.contentId)
    const res = await fetch(item(movie), { headers: { range: 'bytes=0-999' } })
    await res.arrayBuffer()
    expect(seed.metrics.bytesServed(movie.contentId) - before).to.equal(1000)
    const text = await seed.metrics.registry.metrics()
    expect(text).to.match(new RegExp(`swarmcdn_webseed_bytes_total\\{content_id="${movie.contentId}",route="data"\\} \\d+`))
    expect(text).to.match(/swarmcdn_webseed_responses_total\{status="206"\} \d+/)
  })

  it('gives the slot of a connection that sent no request to a newcomer when full (maxConnections)', async () => {
    const small = await startWebSeed({ store, port: 0, maxConnections: 1 })
    const holder = connect(small.port, '127.0.0.1')
    try {
      await new Promise<void>((resolve, reject) => { holder.once('connect', resolve); holder.once('error', reject) })
      await waitFor('the server counts the held connection', () => small.connections().open === 1, 3000)
      const closed = new Promise<void>(resolve => { holder.once('close', () => { resolve() }) })
      const body = await (await fetch(item(movie).replace(seed.url, small.url), { signal: AbortSignal.timeout(3000) })).arrayBuffer()
      expect(body.byteLength).to.equal(movie.lengthBytes)
      await closed
      expect(small.connections().evicted).to.equal(1)
    } finally {
      holder.destroy()
      await small.close()
    }
  })

  it('refuses a newcomer when every slot is answering a client that reads (maxConnections)', async () => {
    const small = await startWebSeed({ store, port: 0, maxConnections: 1 })
    const busy = await open(`${small.url}/c/${big.contentId}`)
    try {
      busy.res.resume()
      let failed = false
      try {
        await (await fetch(item(movie).replace(seed.url, small.url), { signal: AbortSignal.timeout(3000) })).arrayBuffer()
      } catch {
        failed = true
      }
      expect(failed).to.equal(true)
      expect(small.connections().refused).to.be.at.least(1)
    } finally {
      busy.destroy()
      await small.close()
    }
  })

  it('closes on close() and on its AbortSignal, cutting an open response', async () => {
    const ac = new AbortController()
    const s = await startWebSeed({ store, port: 0, signal: ac.signal })
    const { res } = await open(`${s.url}/c/${big.contentId}`)
    await new Promise(resolve => res.once('data', resolve))
    res.pause()
    const errored = new Promise<boolean>(resolve => { res.once('error', () => resolve(true)); res.once('close', () => resolve(true)) })
    ac.abort()
    await s.close()
    res.resume()
    expect(await errored).to.equal(true)
    let refused = false
    try { await fetch(s.url, { signal: AbortSignal.timeout(3000) }) } catch { refused = true }
    expect(refused).to.equal(true)
    expect(await eventually(async () => !(await openFilePaths()).includes(store.dataPath(big.contentId)))).to.equal(true)
  })
})
