/**
 * The web seed's (`seed --http-*`) and the gateway's (`stream --gateway-*`)
 * connection limits on the command line: parsed, passed only when given,
 * and in force in the real processes (a short header deadline cuts a
 * socket that trickles its headers long before the 10 s default would).
 */
import { expect } from 'chai'
import { Command } from 'commander'
import { connect, type Socket } from 'node:net'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { addHttpLimitOptions, httpLimitsOf } from '../../src/cli/http-limit-options.js'
import { WEBSEED_DEFAULTS } from '../../seeders/web-seed.js'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { startCli, type CliProcess } from '../helpers/run-cli.js'
import { startOriginSeeder, type OriginSeeder } from '../../seeders/origin-seeder.js'

/** A header deadline far below the 10 s default, and a trickle fast enough (40 B/s) to pass the minimum-rate cut of 1 B/s. */
const HEADERS_TIMEOUT_MS = 1000

/** Opens a socket to 127.0.0.1:`port` that sends a request line, then a header line every 200 ms; resolves with how long the server took to close it (or rejects after 8 s). */
async function trickleUntilClosed (port: number): Promise<number> {
  const started = Date.now()
  let socket: Socket | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  try {
    return await new Promise<number>((resolve, reject) => {
      socket = connect({ host: '127.0.0.1', port }, () => {
        socket?.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n')
        timer = setInterval(() => { if (socket?.writable === true) socket.write('X-Slow: 1\r\n') }, 200)
      })
      socket.once('close', () => { resolve(Date.now() - started) })
      socket.once('error', () => {})
      setTimeout(() => { reject(new Error('the server kept the trickling socket for 8 s')) }, 8000).unref()
    })
  } finally {
    clearInterval(timer)
    socket?.destroy()
  }
}

describe('cli: HTTP connection limits as flags (seed --http-*, stream --gateway-*)', function () {
  this.timeout(60_000)
  let fx: Fixture
  let origin: OriginSeeder | undefined
  let proc: CliProcess | undefined
  before(async () => { fx = await makeFixture(256 * 1024, 16 * 1024, 'clip.mp4') })
  afterEach(async () => {
    await proc?.stop(); proc = undefined
    await origin?.stop(); origin = undefined
  })
  after(async () => {
    await fx.store.close()
    await rm(fx.dir, { recursive: true, force: true })
  })

  it('parses every limit under its prefix, shows the defaults in help, passes only the flags given, and rejects 0', () => {
    const cmd = addHttpLimitOptions(new Command('x').exitOverride().configureOutput({ writeErr: () => {} }), 'http-', 'web seed', WEBSEED_DEFAULTS)
    cmd.parse(['--http-headers-timeout', '2500', '--http-min-request-rate', '1KiB', '--http-keep-alive-timeout', '700', '--http-max-per-address', '4', '--http-idle-timeout', '9000'], { from: 'user' })
    expect(httpLimitsOf(cmd.opts(), 'http-')).to.deep.equal({ headersTimeoutMs: 2500, minRequestBytesPerSec: 1024, keepAliveTimeoutMs: 700, maxConnectionsPerAddress: 4, idleSocketTimeoutMs: 9000 })
    expect(cmd.helpInformation()).to.include('(default: 10000)').and.to.include('--http-max-requests-per-connection')
    const bad = addHttpLimitOptions(new Command('y').exitOverride().configureOutput({ writeErr: () => {} }), 'gateway-', 'gateway', WEBSEED_DEFAULTS)
    expect(() => bad.parse(['--gateway-max-connections', '0'], { from: 'user' })).to.throw(/gateway-max-connections.*at least 1/)
  })

  it('seed --http-headers-timeout cuts a trickling web seed socket at the given deadline', async () => {
    proc = startCli(['seed', '--store', join(fx.dir, 'store'), '--listen', '/ip4/127.0.0.1/tcp/0', '--http', '127.0.0.1:0', '--prefix-table', '/dev/null',
      '--http-headers-timeout', String(HEADERS_TIMEOUT_MS), '--http-min-request-rate', '1', '--json'])
    const listening = await proc.waitFor(e => e.event === 'listening', 20_000)
    const ms = await trickleUntilClosed(Number(new URL(listening.http as string).port))
    expect(ms).to.be.at.least(HEADERS_TIMEOUT_MS - 100).and.below(HEADERS_TIMEOUT_MS + 3000)
  })

  it('stream --gateway-headers-timeout cuts a trickling gateway socket at the given deadline', async () => {
    origin = await startOriginSeeder({ store: fx.store, listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'] })
    proc = startCli(['stream', fx.manifest.contentId, '--peer', origin.multiaddrs[0], '-o', join(fx.dir, 'streamed.mp4'), '--prefix-table', '/dev/null', '--json',
      '--gateway-headers-timeout', String(HEADERS_TIMEOUT_MS), '--gateway-min-request-rate', '1'])
    const streaming = await proc.waitFor(e => e.event === 'streaming', 20_000)
    const ms = await trickleUntilClosed(Number(new URL(streaming.url as string).port))
    expect(ms).to.be.at.least(HEADERS_TIMEOUT_MS - 100).and.below(HEADERS_TIMEOUT_MS + 3000)
  })
})
