import { expect } from 'chai'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { runCli, startCli } from '../helpers/run-cli.js'

const TABLE = 'test/fixtures/loopback-as.csv'

describe('cli: swarmcdn peer --json and swarmcdn status --peer', function () {
  this.timeout(30_000)
  let fx: Fixture
  before(async () => {
    fx = await makeFixture(64 * 1024, 16 * 1024)
    await fx.store.close() // the peer process opens the store itself
  })
  after(async () => { await rm(fx.dir, { recursive: true, force: true }) })

  it('starts, prints a listening event, answers status with its role and items, and stops on SIGINT', async () => {
    const peer = startCli(['peer', '--role', 'supernode', '--store', join(fx.dir, 'store'), '--listen', '/ip4/127.2.0.1/tcp/0', '--json', '--prefix-table', TABLE])
    let stopped = false
    try {
      const listening = await peer.waitFor(e => e.event === 'listening')
      expect(listening.role).to.equal('supernode')
      expect(listening.items).to.equal(1)
      expect(listening.bootstrap).to.equal(0)
      const addrs = listening.multiaddrs as string[]
      expect(addrs[0]).to.match(new RegExp(`^/ip4/127\\.2\\.0\\.1/tcp/\\d+/p2p/${String(listening.peerId)}$`))

      const json = await runCli(['status', '--peer', addrs[0], '--json'])
      expect(json.code, json.stderr).to.equal(0)
      const doc = JSON.parse(json.stdout) as Record<string, unknown>
      expect(doc.peerId).to.equal(listening.peerId)
      expect(doc.role).to.equal('supernode')
      expect(doc.items).to.equal(1)
      expect(doc.publicAddress).to.equal('127.2.0.1')
      expect(doc.asn).to.equal(64602)

      const text = await runCli(['status', '--peer', addrs[0]])
      expect(text.code, text.stderr).to.equal(0)
      expect(text.stdout).to.match(/^role\s+supernode$/m)
      expect(text.stdout).to.match(/^items held\s+\d+ announced, 1 in store$/m)

      expect(await peer.stop('SIGINT')).to.equal(0)
      stopped = true
      expect(peer.events.at(-1)).to.deep.equal({ event: 'stopped', signal: 'SIGINT' })
    } finally {
      if (!stopped) await peer.stop('SIGKILL')
    }
  })

  it('status reports an unreachable peer in one line with exit 1', async () => {
    const r = await runCli(['status', '--peer', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWQy1gW8woCFTp5irUxvHT9wAA9HTGH2B2vtRkSEVw8xYP'], { env: { SWARMCDN_DEBUG: '' } })
    expect(r.code).to.equal(1)
    expect(r.stderr.trim().split('\n')).to.have.length(1)
    expect(r.stderr).to.match(/^swarmcdn: /)
  })
})
