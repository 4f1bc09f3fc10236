import { expect } from 'chai'
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { startCli, type CliProcess } from '../helpers/run-cli.js'
import { waitFor } from '../helpers/wait-for.js'
import { startOriginSeeder, type OriginSeeder } from '../../seeders/origin-seeder.js'

const TABLE = 'test/fixtures/loopback-as.csv'

describe('cli: swarmcdn peer --get --output-dir', function () {
  this.timeout(60_000)
  let fx: Fixture
  let seeder: OriginSeeder
  const children: CliProcess[] = []
  before(async () => {
    fx = await makeFixture(8 * 16 * 1024 - 77, 16 * 1024, 'talk.mp4')
    seeder = await startOriginSeeder({ store: fx.store, listenMultiaddrs: ['/ip4/127.1.0.1/tcp/0'], prefixTablePaths: [TABLE] })
  })
  afterEach(async () => { await Promise.all(children.splice(0).map(async c => await c.stop('SIGKILL'))) })
  after(async () => { await seeder?.stop(); await fx.store.close(); await rm(fx.dir, { recursive: true, force: true }) })

  const peer = (outputDir: string): CliProcess => {
    const c = startCli(['peer', '--bootstrap', seeder.multiaddrs[0], '--listen', '/ip4/127.2.0.1/tcp/0', '--role', 'leaf', '--get', fx.manifest.contentId, '--output-dir', outputDir, '--json', '--prefix-table', TABLE])
    children.push(c)
    return c
  }

  it('creates a missing output folder and saves the item under its manifest name', async () => {
    const dir = join(fx.dir, 'not', 'yet', 'there')
    const p = peer(dir)
    const done = await p.waitFor(e => e.event === 'download:done' || e.event === 'download:error', 30_000)
    expect(done.event, JSON.stringify(done)).to.equal('download:done')
    expect(done.output).to.equal(join(dir, 'talk.mp4'))
    expect(await readdir(dir)).to.deep.equal(['talk.mp4'])
    expect(Buffer.compare(await readFile(join(dir, 'talk.mp4')), Buffer.from(fx.data))).to.equal(0)
    expect(await p.stop('SIGINT')).to.equal(0)
  })

  it('withdraws its announcement when the download fails (a file of the same name is in the way)', async () => {
    const dir = join(fx.dir, 'taken')
    await mkdir(dir)
    await writeFile(join(dir, 'talk.mp4'), 'someone else\'s file')
    const p = peer(dir)
    const listening = await p.waitFor(e => e.event === 'listening', 20_000)
    await p.waitFor(e => e.event === 'provider:announced', 30_000)
    const failed = await p.waitFor(e => e.event === 'download:error', 30_000)
    expect(failed.error).to.match(/talk\.mp4 exists; it is not this item/)
    await p.waitFor(e => e.event === 'provider:withdrawn', 10_000)
    expect(await readFile(join(dir, 'talk.mp4'), 'utf8')).to.equal('someone else\'s file')
    // The overlay stops naming the peer as a holder.
    await waitFor('the seeder to stop listing the failed peer', async () =>
      !(await seeder.overlay.findProviders(fx.manifest.contentId)).some(x => x.peerId === listening.peerId), 15_000, 200)
    expect(await readdir(dir)).to.deep.equal(['talk.mp4'])
    expect(await p.stop('SIGINT')).to.equal(0)
  })
})
