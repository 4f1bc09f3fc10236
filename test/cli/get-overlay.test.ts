import { expect } from 'chai'
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { CLI_PATH, runCli } from '../helpers/run-cli.js'

const TABLE = fileURLToPath(new URL('../../../test/fixtures/loopback-as.csv', import.meta.url))

describe('cli: swarmcdn get through the overlay (no --peer)', function () {
  this.timeout(60_000)
  let fx: Fixture
  let seed: ChildProcess | undefined
  let gotSeedAddress!: (a: string) => void
  const seedAddress = new Promise<string>(resolve => { gotSeedAddress = resolve })
  before(async () => { fx = await makeFixture(300 * 1024 + 5, 32 * 1024); await fx.store.close() })
  after(async () => {
    seed?.kill('SIGTERM')
    await rm(fx.dir, { recursive: true, force: true })
  })

  it('downloads via --bootstrap from a seeder started with `seed`', async () => {
    seed = spawn(process.execPath, [CLI_PATH, 'seed', '--store', join(fx.dir, 'store'), '--listen', '/ip4/127.1.0.1/tcp/0', '--json', '--prefix-table', TABLE], { stdio: ['ignore', 'pipe', 'inherit'] })
    const lines = createInterface({ input: seed.stdout! })
    const listening = await new Promise<{ multiaddrs: string[] }>((resolve, reject) => {
      const t = setTimeout(() => { reject(new Error('seed did not start in 15 s')) }, 15_000)
      lines.on('line', line => { const e = JSON.parse(line); if (e.event === 'listening') { clearTimeout(t); resolve(e) } })
    })
    gotSeedAddress(listening.multiaddrs[0])
    const out = join(fx.dir, 'copy.bin')
    const r = await runCli(['get', fx.manifest.contentId, '--bootstrap', listening.multiaddrs[0], '-o', out, '--json', '--prefix-table', TABLE, '--listen', '/ip4/127.2.0.1/tcp/0'], { timeoutMs: 40_000 })
    expect(r.code, r.stderr).to.equal(0)
    const events = r.stdout.trim().split('\n').map(l => JSON.parse(l))
    expect(events.find(e => e.event === 'providers')?.origins).to.equal(1)
    const done = events.find(e => e.event === 'done')
    expect(done.downloadedFromSeedersBytes).to.equal(fx.manifest.lengthBytes)
    expect(Buffer.compare(await readFile(out), fx.data)).to.equal(0)
  })

  it('reports an item nobody holds with one line after --find-timeout, exit 1', async () => {
    const seedAddr = await seedAddress
    const r = await runCli(['get', 'bafkreifualh2ao7dlxyjkhhxpy4kvv4jxjc2pmc6nzvkkdjuv7ax6jmniq', '--bootstrap', seedAddr, '--find-timeout', '2', '-o', join(fx.dir, 'y.bin'), '--prefix-table', TABLE], { timeoutMs: 30_000 })
    expect(r.code).to.equal(1)
    expect(r.stderr.trim().split('\n')).to.have.length(1)
    expect(r.stderr).to.match(/^swarmcdn: no provider of bafkrei\S+ found through the overlay within 2 s/)
  })

  it('without --peer and without any bootstrap: one line, exit 1', async () => {
    const r = await runCli(['get', fx.manifest.contentId, '-o', join(fx.dir, 'x.bin')], { env: { SWARMCDN_BOOTSTRAP: '' } })
    expect(r.code).to.equal(1)
    expect(r.stderr.trim().split('\n')).to.have.length(1)
    expect(r.stderr).to.match(/^swarmcdn: no source: give --peer MULTIADDR, or --bootstrap/)
  })

  it('stream without --peer and without any bootstrap: one line, exit 1', async () => {
    const r = await runCli(['stream', fx.manifest.contentId], { env: { SWARMCDN_BOOTSTRAP: '' } })
    expect(r.code).to.equal(1)
    expect(r.stderr.trim().split('\n')).to.have.length(1)
    expect(r.stderr).to.match(/^swarmcdn: no source/)
  })
})
