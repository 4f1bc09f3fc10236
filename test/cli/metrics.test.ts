import { expect } from 'chai'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { runCli, startCli, type CliProcess } from '../helpers/run-cli.js'
import { sample } from '../helpers/prometheus-sample.js'

const TABLE = 'test/fixtures/loopback-as.csv'

describe('cli: seed --metrics serves Prometheus text on /metrics (real processes, loopback ASes)', function () {
  this.timeout(90_000)
  let fx: Fixture
  let seed: CliProcess | undefined
  let metricsUrl = ''
  let httpUrl = ''
  let seederAddr = ''
  before(async () => {
    fx = await makeFixture(5 * 16 * 1024 - 3, 16 * 1024)
    await fx.store.close()
    seed = startCli(['seed', '--store', join(fx.dir, 'store'), '--listen', '/ip4/127.1.0.1/tcp/0', '--http', '127.1.0.1:0', '--metrics', '127.0.0.1:0', '--prefix-table', TABLE, '--json'])
    const listening = await seed.waitFor(e => e.event === 'listening', 30_000)
    metricsUrl = String(listening.metrics)
    httpUrl = String(listening.http)
    seederAddr = (listening.multiaddrs as string[])[0]
  })
  after(async () => { await seed?.stop(); await rm(fx.dir, { recursive: true, force: true }) })

  it('says where the endpoint listens', () => {
    expect(metricsUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
  })

  it('counts libp2p bytes by requester locality, HTTP bytes, streams, items and libp2p\'s own metrics', async () => {
    const n = fx.manifest.lengthBytes
    const r = await runCli(['get', fx.manifest.contentId, '--peer', seederAddr, '--listen', '/ip4/127.1.0.7/tcp/0', '--prefix-table', TABLE, '-o', join(fx.dir, 'a.bin')], { timeoutMs: 30_000 })
    expect(r.code, r.stderr).to.equal(0)
    // An HTTP client on 127.0.0.1 is AS 64600: another AS than the seeder's 64601.
    const res = await fetch(`${httpUrl}/c/${fx.manifest.contentId}`, { signal: AbortSignal.timeout(10_000) })
    expect((await res.arrayBuffer()).byteLength).to.equal(n)
    const page = await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) })
    expect(page.status).to.equal(200)
    expect(page.headers.get('content-type')).to.match(/^text\/plain/)
    const text = await page.text()
    expect(sample(text, 'swarmcdn_served_bytes_total', { protocol: 'libp2p', locality: 'same-as' })).to.equal(n)
    expect(sample(text, 'swarmcdn_served_bytes_total', { protocol: 'libp2p', locality: 'other-as' })).to.equal(0)
    expect(sample(text, 'swarmcdn_served_bytes_total', { protocol: 'http', locality: 'other-as' })).to.equal(n)
    expect(sample(text, 'swarmcdn_xfer_streams_total')).to.equal(1)
    expect(sample(text, 'swarmcdn_pieces_served_total')).to.equal(fx.manifest.pieceCount)
    expect(sample(text, 'swarmcdn_items_stored')).to.equal(1)
    expect(sample(text, 'swarmcdn_role', { role: 'seeder' })).to.equal(1)
    expect(sample(text, 'swarmcdn_upload_slots_in_use')).to.be.a('number')
    expect(sample(text, 'swarmcdn_dht_routing_table_contacts')).to.equal(0)
    // A seeder relays for leaves behind NATs: nobody behind one here.
    expect(sample(text, 'swarmcdn_relay_reservations')).to.equal(0)
    expect(sample(text, 'swarmcdn_relay_reservations_refused_total', { reason: 'network-limit' })).to.equal(0)
    expect(sample(text, 'swarmcdn_relayed_connections')).to.equal(0)
    expect(sample(text, 'swarmcdn_webseed_responses_total', { status: '200' })).to.equal(1)
    // The downloader's delivery report: all from the origin, in the downloader's AS.
    expect(sample(text, 'swarmcdn_delivered_bytes_total', { source: 'origin', locality: 'same-as' })).to.equal(n)
    expect(sample(text, 'swarmcdn_delivered_bytes_total', { source: 'peer', locality: 'same-as' })).to.equal(0)
    expect(sample(text, 'swarmcdn_delivery_reports_total', { verdict: 'accepted' })).to.equal(1)
    expect(text).to.match(/^libp2p_data_transfer_bytes_total\{protocol="\/swarmcdn\/xfer\/1\.0\.0 sent"\} \d+/m)
  })

  it('answers 404 off /metrics and 405 to other methods', async () => {
    const base = metricsUrl.replace(/\/metrics$/, '')
    expect((await fetch(`${base}/`, { signal: AbortSignal.timeout(10_000) })).status).to.equal(404)
    expect((await fetch(metricsUrl, { method: 'POST', signal: AbortSignal.timeout(10_000) })).status).to.equal(405)
  })
})

describe('cli: peer --metrics', function () {
  this.timeout(60_000)
  it('serves the same metrics from a peer, and refuses a bad HOST:PORT', async () => {
    const peer = startCli(['peer', '--listen', '/ip4/127.2.0.1/tcp/0', '--metrics', '127.0.0.1:0', '--prefix-table', TABLE, '--json'])
    try {
      const listening = await peer.waitFor(e => e.event === 'listening', 30_000)
      const text = await (await fetch(String(listening.metrics), { signal: AbortSignal.timeout(10_000) })).text()
      expect(sample(text, 'swarmcdn_served_bytes_total', { protocol: 'libp2p', locality: 'same-as' })).to.equal(0)
      expect(sample(text, 'swarmcdn_connections')).to.be.a('number')
      expect(sample(text, 'swarmcdn_served_bytes_total', { protocol: 'http', locality: 'same-as' })).to.equal(undefined)
    } finally { await peer.stop() }
    const bad = await runCli(['peer', '--metrics', 'nohost'], { timeoutMs: 20_000 })
    expect(bad.code).to.not.equal(0)
    expect(bad.stderr).to.include('not HOST:PORT')
  })
})
