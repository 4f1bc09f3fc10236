import { expect } from 'chai'
import { execFile } from 'node:child_process'
import { readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { makeFixture, slowProvider, type Fixture } from '../helpers/content-fixture.js'
import { runCli } from '../helpers/run-cli.js'
import { startOriginSeeder, type OriginSeeder } from '../../seeders/origin-seeder.js'
import { PartialDownload } from '../../src/client/partial-download.js'

const run = promisify(execFile)

describe('cli: swarmcdn stream', function () {
  this.timeout(60_000)
  let fx: Fixture
  let seeder: OriginSeeder
  before(async () => {
    fx = await makeFixture(3 * 1024 * 1024, 16 * 1024, 'movie.mp4')
    seeder = await startOriginSeeder({ store: slowProvider(fx.store, 5), listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'] })
  })
  after(async () => { await seeder?.stop(); await fx.store.close(); await rm(fx.dir, { recursive: true, force: true }) })

  it('prints the URL, runs the player on it (no shell), and exits when the player exits, keeping the partial download', async function () {
    try { await run('curl', ['--version']) } catch { this.skip() } // curl plays the role of a player that reads 100 KiB
    const output = join(fx.dir, 'played.mp4')
    const saved = join(fx.dir, 'first-100k.bin')
    const r = await runCli(['stream', fx.manifest.contentId, '--peer', seeder.multiaddrs[0], '-o', output, '--json',
      '--player', `curl -s -r 0-102399 -o ${saved}`], { timeoutMs: 30_000 })
    expect(r.code, r.stderr).to.equal(0)
    const events = r.stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>)
    const streaming = events.find(e => e.event === 'streaming')
    expect(streaming?.url).to.match(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/c/${fx.manifest.contentId}/movie\\.mp4$`))
    expect(events.find(e => e.event === 'player-exit')?.code).to.equal(0)
    expect(Buffer.compare(await readFile(saved), Buffer.from(fx.data).subarray(0, 102_400))).to.equal(0)
    const stopped = events.find(e => e.event === 'stopped')
    expect(stopped?.complete).to.equal(false)
    expect(await stat(PartialDownload.statePath(output)).then(() => true, () => false)).to.equal(true)
  })

  it('refuses to start without a source, in one line', async () => {
    const r = await runCli(['stream', fx.manifest.contentId])
    expect(r.code).to.equal(1)
    expect(r.stderr.trim().split('\n')).to.have.length(1)
    expect(r.stderr).to.match(/--peer/)
  })

  it('shows an example in --help', async () => {
    const r = await runCli(['stream', '--help'])
    expect(r.code).to.equal(0)
    expect(r.stdout).to.match(/Example:\n\s+\$ swarmcdn stream .*--player mpv/)
  })
})
