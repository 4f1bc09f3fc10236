import { expect } from 'chai'
import { mkdtemp, writeFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BootstrapConfigError, resolveBootstrap } from '../../src/client/bootstrap-config.js'

const A = '/ip4/127.1.0.1/tcp/4001/p2p/12D3KooWQy1gW8woCFTp5irUxvHT9wAA9HTGH2B2vtRkSEVw8xYP'
const B = '/ip4/127.2.0.1/tcp/4002/p2p/12D3KooWSG6gAdU724x6Fg3PguvwG3zQkinAiVeyXVZ7qq9H8kDb'

describe('client/bootstrap-config', () => {
  it('merges flags, the environment variable (comma or space separated) and the config file without duplicates', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swarmcdn-boot-'))
    try {
      const file = join(dir, 'swarmcdn.json')
      await writeFile(file, JSON.stringify({ bootstrap: [B, A] }))
      expect(await resolveBootstrap({ flags: [A], env: ` ${B} , ${A}`, configFile: file })).to.deep.equal([A, B])
    } finally { await rm(dir, { recursive: true }) }
  })

  it('names the source of a bad entry or file', async () => {
    for (const sources of [{ flags: ['/ip4/1.2.3.4/tcp/1'] }, { env: 'nonsense' }, { configFile: '/nonexistent/x.json' }]) {
      let err: unknown
      try { await resolveBootstrap(sources) } catch (e) { err = e }
      expect(err).to.be.instanceOf(BootstrapConfigError)
    }
  })
})
