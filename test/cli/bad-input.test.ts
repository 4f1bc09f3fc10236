import { expect } from 'chai'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli, type CliResult } from '../helpers/run-cli.js'

const ID = 'bafkreifualh2ao7dlxyjkhhxpy4kvv4jxjc2pmc6nzvkkdjuv7ax6jmniq'
const PEER = '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWQy1gW8woCFTp5irUxvHT9wAA9HTGH2B2vtRkSEVw8xYP'
const NO_DEBUG = { SWARMCDN_DEBUG: '' }

/** One error line naming the problem (commander adds a usage hint line for option values), exit 1, no stack trace. */
function expectOneLineError (r: CliResult, pattern: RegExp): void {
  expect(r.code, r.stderr).to.equal(1)
  expect(r.stderr, 'no stack trace').to.not.match(/\n\s+at /)
  const lines = r.stderr.trim().split('\n').filter(l => l !== '(run with --help for usage)')
  expect(lines, r.stderr).to.have.length(1)
  expect(lines[0]).to.match(pattern)
}

describe('cli: bad input gives one clear line and exit 1', function () {
  this.timeout(30_000)
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'swarmcdn-bad-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('seed skips a store item whose manifest is garbage, says so, and serves the others', async () => {
    const store = join(dir, 'store')
    const key = join(dir, 'k.key')
    expect((await runCli(['keygen', '--out', key])).code).to.equal(0)
    const files = ['a.bin', 'b.bin', 'c.bin'].map(n => join(dir, n))
    const data = files.map(() => randomBytes(40_000))
    for (let i = 0; i < 2; i++) await writeFile(files[i], data[i])
    const ids: string[] = []
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['publish', files[i], '--key', key, '--store', store, '--piece-size', '16384'])
      expect(r.code, r.stderr).to.equal(0)
      ids.push(r.stdout.trim())
    }
    await writeFile(join(store, 'items', ids[0], 'manifest'), 'garbage\n')
    // Publishing into a store with a damaged item still works.
    await writeFile(files[2], data[2])
    const pub = await runCli(['publish', files[2], '--key', key, '--store', store, '--piece-size', '16384'])
    expect(pub.code, pub.stderr).to.equal(0)
    ids.push(pub.stdout.trim())

    const seed = startCli(['seed', '--store', store, '--listen', '/ip4/127.0.0.1/tcp/0', '--json', '--prefix-table', 'test/fixtures/loopback-as.csv'], { env: NO_DEBUG })
    try {
      const skipped = await seed.waitFor(e => e.event === 'skipped')
      expect(skipped.entry).to.equal(ids[0])
      expect(skipped.reason).to.be.a('string').and.match(/manifest/)
      const listening = await seed.waitFor(e => e.event === 'listening')
      expect(listening.items).to.equal(2)
      const addr = (listening.multiaddrs as string[])[0]
      const out = join(dir, 'c-copy.bin')
      const got = await runCli(['get', ids[2], '--peer', addr, '-o', out])
      expect(got.code, got.stderr).to.equal(0)
      expect(Buffer.compare(await readFile(out), data[2])).to.equal(0)
      const missing = await runCli(['get', ids[0], '--peer', addr, '-o', join(dir, 'a-copy.bin')], { env: NO_DEBUG })
      expectOneLineError(missing, /^swarmcdn: no source has /)
    } finally {
      expect(await seed.stop()).to.equal(0)
    }
  })

  it('get: a malformed content id', async () => {
    expectOneLineError(await runCli(['get', 'bafkreinotreal', '--peer', PEER, '-o', join(dir, 'x')], { env: NO_DEBUG }), /^swarmcdn: not a content id: "bafkreinotreal"/)
  })

  it('get: -o into a directory that does not exist, before any network activity', async () => {
    const out = join(dir, 'no-such-dir', 'x.bin')
    expectOneLineError(await runCli(['get', ID, '--peer', PEER, '-o', out], { env: NO_DEBUG }), /^swarmcdn: cannot write .*x\.bin: directory .*no-such-dir does not exist$/)
  })

  it('sim: a scenario file that is not JSON, and one with an unknown field', async () => {
    const notJson = join(dir, 'not.json')
    await writeFile(notJson, 'durationS: 10\n')
    expectOneLineError(await runCli(['sim', notJson, '--out', join(dir, 'simout')], { env: NO_DEBUG }), /^swarmcdn: .*not\.json is not valid JSON/)
    const badField = join(dir, 'bad-field.json')
    await writeFile(badField, JSON.stringify({ durationS: 60, nodes: 'many' }))
    expectOneLineError(await runCli(['sim', badField, '--out', join(dir, 'simout')], { env: NO_DEBUG }), /^swarmcdn: scenario field nodes: unknown field/)
  })

  it('asn: a malformed table line is reported as FILE:LINE', async () => {
    const table = join(dir, 'bad.csv')
    await writeFile(table, '1.0.0.0,1.0.0.255,13335,Cloudflare\nzzz,1.0.1.255,x,y\n')
    expectOneLineError(await runCli(['asn', '1.0.0.1', '--table', table], { env: NO_DEBUG }), /^swarmcdn: .*bad\.csv:2: bad first address/)
  })

  for (const cmd of ['peer', 'seed']) {
    it(`${cmd}: an unparsable or non-TCP --listen multiaddr`, async () => {
      const extra = cmd === 'seed' ? ['--store', join(dir, 'empty-store')] : []
      for (const bad of ['garbage', '/ip4/notanip/tcp/1', '/ip4/127.0.0.1/udp/1']) {
        expectOneLineError(await runCli([cmd, ...extra, '--listen', bad], { env: NO_DEBUG }), /--listen.*not a TCP listen multiaddr/)
      }
    })

    it(`${cmd}: a --bootstrap address not ending in /p2p/PEER_ID`, async () => {
      const extra = cmd === 'seed' ? ['--store', join(dir, 'empty-store')] : []
      expectOneLineError(await runCli([cmd, ...extra, '--listen', '/ip4/127.0.0.1/tcp/0', '--bootstrap', '/ip4/127.0.0.1/tcp/4001'], { env: NO_DEBUG }),
        /^swarmcdn: --bootstrap: not a multiaddr ending in \/p2p\/PEER_ID: "\/ip4\/127\.0\.0\.1\/tcp\/4001"$/)
    })
  }

  it('seed: a --listen port already in use', async () => {
    const server: Server = createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    try {
      expectOneLineError(await runCli(['seed', '--store', join(dir, 'empty-store'), '--create-store', '--listen', `/ip4/127.0.0.1/tcp/${port}`], { env: NO_DEBUG }),
        new RegExp(`^swarmcdn: could not listen on /ip4/127\\.0\\.0\\.1/tcp/${port}: listen EADDRINUSE`))
    } finally {
      server.close()
    }
  })
})
