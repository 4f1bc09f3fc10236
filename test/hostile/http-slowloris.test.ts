/**
 * Adversarial: 300-socket slowloris against the web seed and the streaming
 * gateway (real servers on loopback); normal requests keep being answered
 * in about their unattacked time, and the attackers' sockets are refused,
 * evicted or cut at the header deadline.
 */
import { expect } from 'chai'
import { request } from 'node:http'
import { rm } from 'node:fs/promises'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { startWebSeed, type WebSeed } from '../../seeders/web-seed.js'
import { startStreamingGateway, type StreamingGateway } from '../../src/client/streaming-gateway.js'
import type { StreamableItem } from '../../src/client/streaming-download.js'
import { startSlowloris, type Slowloris } from '../helpers/slowloris.js'
import { waitFor } from '../helpers/wait-for.js'

const ATTACK_SOCKETS = 300
/** Test-time header deadline (default 10 s). */
const HEADERS_TIMEOUT_MS = 1500

/** GETs `url` with a fresh connection from `localAddress`; resolves with status, body length and time, or rejects after `timeoutMs`. */
async function timedGet (url: string, timeoutMs: number, localAddress = '127.0.0.1'): Promise<{ status: number, bytes: number, ms: number }> {
  const started = Date.now()
  return await new Promise((resolve, reject) => {
    const req = request(url, { agent: false, localAddress, signal: AbortSignal.timeout(timeoutMs) })
    req.once('response', res => {
      let bytes = 0
      res.on('data', (c: Buffer) => { bytes += c.length })
      res.once('end', () => { resolve({ status: res.statusCode ?? 0, bytes, ms: Date.now() - started }) })
      res.once('error', reject)
    })
    req.once('error', reject)
    req.end()
  })
}

/** Median time of `n` sequential GETs, each checked for a 200 of `length` bytes. */
async function medianGet (url: string, n: number, length: number, timeoutMs: number): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const r = await timedGet(url, timeoutMs)
    expect(r.status).to.equal(200)
    expect(r.bytes).to.equal(length)
    times.push(r.ms)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]
}

describe('hostile: slowloris against the HTTP servers', function () {
  this.timeout(60_000)
  let fx: Fixture
  let attack: Slowloris | undefined
  let web: WebSeed | undefined
  let gateway: StreamingGateway | undefined
  before(async () => { fx = await makeFixture(1024 * 1024, 64 * 1024) })
  afterEach(async () => {
    attack?.stop(); attack = undefined
    await web?.close(); web = undefined
    await gateway?.close(); gateway = undefined
  })
  after(async () => {
    await fx.store.close()
    await rm(fx.dir, { recursive: true, force: true })
  })

  for (const from of ['127.66.0.1', '127.0.0.1']) {
    it(`the web seed answers normal requests during a ${ATTACK_SOCKETS}-socket slowloris from ${from}`, async () => {
      web = await startWebSeed({ store: fx.store, headersTimeoutMs: HEADERS_TIMEOUT_MS })
      const url = `${web.url}/c/${fx.manifest.contentId}`
      const quiet = await medianGet(url, 5, fx.manifest.lengthBytes, 5000)
      attack = startSlowloris({ host: '127.0.0.1', port: web.port, sockets: ATTACK_SOCKETS, localAddress: from })
      const a = attack
      await waitFor('the attack to open its sockets', () => a.opened() >= ATTACK_SOCKETS, 10_000)
      // Outlive the header deadline, so the slots are held as long as the attack can hold them.
      await new Promise(resolve => setTimeout(resolve, HEADERS_TIMEOUT_MS))
      const attacked = await medianGet(url, 5, fx.manifest.lengthBytes, 5000)
      expect(a.live(), 'the attack was still running').to.equal(true)
      const stats = web.connections()
      expect(attacked, `median GET ${attacked} ms under attack vs ${quiet} ms quiet`).to.be.below(Math.max(2 * quiet, 250))
      expect(stats.refused + stats.evicted + stats.tooSlow).to.be.above(0)
      if (from !== '127.0.0.1') expect(stats.open).to.be.at.most(32 + 1)
    })
  }

  it(`the streaming gateway answers normal requests during a ${ATTACK_SOCKETS}-socket slowloris`, async () => {
    const item: StreamableItem = {
      manifest: fx.manifest,
      read: async function * (start, endInclusive) { yield fx.data.subarray(start, endInclusive + 1) }
    }
    gateway = await startStreamingGateway({ downloads: { get: id => id === fx.manifest.contentId ? item : undefined }, headersTimeoutMs: HEADERS_TIMEOUT_MS })
    const url = gateway.urlFor(item)
    const quiet = await medianGet(url, 5, fx.manifest.lengthBytes, 5000)
    attack = startSlowloris({ host: '127.0.0.1', port: gateway.port, sockets: ATTACK_SOCKETS })
    const a = attack
    await waitFor('the attack to open its sockets', () => a.opened() >= ATTACK_SOCKETS, 10_000)
    await new Promise(resolve => setTimeout(resolve, HEADERS_TIMEOUT_MS))
    const attacked = await medianGet(url, 5, fx.manifest.lengthBytes, 5000)
    expect(a.live(), 'the attack was still running').to.equal(true)
    expect(attacked, `median GET ${attacked} ms under attack vs ${quiet} ms quiet`).to.be.below(Math.max(2 * quiet, 250))
    expect(gateway.connections().evicted + gateway.connections().refused).to.be.above(0)
  })

  it('cuts a socket that trickles its headers one line a second soon after the first second, not at the header deadline', async () => {
    web = await startWebSeed({ store: fx.store })
    attack = startSlowloris({ host: '127.0.0.1', port: web.port, sockets: 1, maxOpens: 1 })
    const a = attack
    await waitFor('the socket connects', () => a.connected() === 1, 5000)
    const ms = await waitFor('the server cuts the slow socket', () => a.connected() === 0, 5000)
    expect(ms).to.be.below(3000)
    expect(web.connections().tooSlow).to.equal(1)
  })
})
