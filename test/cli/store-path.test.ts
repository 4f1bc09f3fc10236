import { expect } from 'chai'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli } from '../helpers/run-cli.js'

const ID = 'bafkreifualh2ao7dlxyjkhhxpy4kvv4jxjc2pmc6nzvkkdjuv7ax6jmniq'

describe('cli: store paths that are wrong say so in one line', function () {
  this.timeout(30_000)
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'swarmcdn-store-path-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  const quiet = { env: { SWARMCDN_DEBUG: '' } }

  it('seed refuses a store that does not exist (a typo) and creates nothing', async () => {
    const r = await runCli(['seed', '--store', join(dir, 'stroe'), '--listen', '/ip4/127.0.0.1/tcp/0'], quiet)
    expect(r.code).to.equal(1)
    expect(r.stderr.trim().split('\n')).to.deep.equal([`swarmcdn: no content store at ${join(dir, 'stroe')} (check the path; swarmcdn publish --store ${join(dir, 'stroe')} creates one, or pass --create-store to start an empty one)`])
    expect(await readdir(dir)).to.deep.equal([])
  })

  it('seed --create-store starts an empty store', async () => {
    const seed = startCli(['seed', '--store', join(dir, 'fresh'), '--create-store', '--listen', '/ip4/127.0.0.1/tcp/0', '--json', '--prefix-table', 'test/fixtures/loopback-as.csv'])
    try {
      const listening = await seed.waitFor(e => e.event === 'listening', 20_000)
      expect(listening.items).to.equal(0)
      expect(await readdir(join(dir, 'fresh'))).to.deep.equal(['items'])
    } finally {
      expect(await seed.stop('SIGINT')).to.equal(0)
    }
  })

  it('seed and get name a store path that is a file', async () => {
    const file = join(dir, 'a-file')
    await writeFile(file, 'x')
    const seed = await runCli(['seed', '--store', file, '--listen', '/ip4/127.0.0.1/tcp/0'], quiet)
    expect(seed.code).to.equal(1)
    expect(seed.stderr).to.equal(`swarmcdn: store ${file} is a file, not a directory\n`)
    const get = await runCli(['get', ID, '--peer', '/ip4/127.0.0.1/tcp/1', '--store', join(file, 'store'), '-o', join(dir, 'out.bin')], quiet)
    expect(get.code).to.equal(1)
    expect(get.stderr).to.equal(`swarmcdn: store ${join(file, 'store')} is not a directory: part of its path is a file\n`)
  })
})
