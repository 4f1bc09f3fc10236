import { expect } from 'chai'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { runCli } from '../helpers/run-cli.js'
import { ContentStore } from '../../src/store/content-store.js'
import { publishFile } from '../../seeders/publish-file.js'
import { fleetOwners } from '../../src/core/fleet/rendezvous.js'

describe('swarmcdn fleet plan: what moves when a seeder joins or leaves', function () {
  this.timeout(60_000)
  let dir: string
  const ids: string[] = []
  const items: string[] = []
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarmcdn-fleet-plan-'))
    expect((await runCli(['keygen', '--out', join(dir, 'k')])).code).to.equal(0)
    for (let i = 0; i < 4; i++) ids.push(peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString())
    const store = await ContentStore.open(join(dir, 'store'))
    const key = generateKeyPairSync('ed25519').privateKey
    for (let i = 0; i < 30; i++) {
      await writeFile(join(dir, `f${i}`), randomBytes(100))
      items.push((await publishFile(store, join(dir, `f${i}`), key, { pieceSizeBytes: 16 * 1024 })).contentId)
    }
    await store.close()
    const r = await runCli(['fleet', 'sign', '--key', join(dir, 'k'), '--sequence', '1', ...ids.slice(0, 3).flatMap((id, k) => ['--seeder', `/ip4/127.${k + 1}.0.1/tcp/4001/p2p/${id}`]), '--out', join(dir, 'fleet.json')])
    expect(r.code, r.stderr).to.equal(0)
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  async function plan (args: string[]): Promise<{ moves: Array<{ contentId: string, gains: string[], losses: string[] }>, summary: Record<string, unknown> }> {
    const r = await runCli(['fleet', 'plan', '--fleet', join(dir, 'fleet.json'), '--store', join(dir, 'store'), '--json', ...args])
    expect(r.code, r.stderr).to.equal(0)
    const lines = r.stdout.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
    return { moves: lines.filter(l => l.event === 'move') as never, summary: lines.find(l => l.event === 'plan') as Record<string, unknown> }
  }

  it('lists only the items the added seeder gains, each with the one owner it replaces', async () => {
    const { moves, summary } = await plan(['--add', `/ip4/127.4.0.1/tcp/4001/p2p/${ids[3]}`])
    const expected = items.filter(id => fleetOwners(id, ids).includes(ids[3]))
    expect(moves.map(m => m.contentId).sort()).to.deep.equal(expected.sort())
    for (const m of moves) { expect(m.gains).to.deep.equal([ids[3]]); expect(m.losses).to.have.length(1) }
    expect(summary).to.include({ items: 30, moving: expected.length })
  })

  it('lists only the removed seeder\'s items, and refuses to remove a stranger', async () => {
    const { moves } = await plan(['--remove', ids[0]])
    expect(moves.map(m => m.contentId).sort()).to.deep.equal(items.filter(id => fleetOwners(id, ids.slice(0, 3)).includes(ids[0])).sort())
    for (const m of moves) expect(m.losses).to.deep.equal([ids[0]])
    const r = await runCli(['fleet', 'plan', '--fleet', join(dir, 'fleet.json'), '--store', join(dir, 'store'), '--remove', ids[3]])
    expect(r.code).to.equal(1)
    expect(r.stderr).to.match(/not a seeder of fleet record 1/)
  })
})
