import { expect } from 'chai'
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli } from '../helpers/run-cli.js'
import { IdentityFileError, loadOrCreateIdentity } from '../../src/client/identity-file.js'

describe('--identity: a peer id that survives restarts', function () {
  this.timeout(60_000)
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'swarmcdn-identity-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  async function peerIdOf (args: string[]): Promise<string> {
    const p = startCli([...args, '--json'])
    try {
      const e = await p.waitFor(ev => ev.event === 'listening', 30_000)
      return String(e.peerId)
    } finally { await p.stop() }
  }

  it('creates the file 0600 on first run and keeps the seeder\'s peer id across restarts', async () => {
    const file = join(dir, 'seed.key')
    const args = ['seed', '--store', join(dir, 'store'), '--create-store', '--listen', '/ip4/127.0.0.1/tcp/0', '--prefix-table', 'loopback', '--identity', file]
    const first = await peerIdOf(args)
    expect((await stat(file)).mode & 0o777).to.equal(0o600)
    expect(await peerIdOf(args)).to.equal(first)
    // Without --identity, a new id each start.
    expect(await peerIdOf(args.slice(0, -2))).to.not.equal(first)
  })

  it('keeps a peer\'s id too', async () => {
    const file = join(dir, 'peer.key')
    const args = ['peer', '--listen', '/ip4/127.0.0.1/tcp/0', '--prefix-table', 'loopback', '--identity', file]
    expect(await peerIdOf(args)).to.equal(await peerIdOf(args))
  })

  it('refuses a file others can read, and a corrupt one, with one clear line and no new identity', async () => {
    const open = join(dir, 'open.key')
    await loadOrCreateIdentity(open)
    await chmod(open, 0o644)
    const r = await runCli(['peer', '--listen', '/ip4/127.0.0.1/tcp/0', '--prefix-table', 'loopback', '--identity', open], { timeoutMs: 20_000 })
    expect(r.code).to.equal(1)
    expect(r.stderr).to.equal(`swarmcdn: identity file ${open} is readable or writable by others (mode 0644); run: chmod 600 ${open}\n`)
    const corrupt = join(dir, 'corrupt.key')
    await writeFile(corrupt, 'not a key', { mode: 0o600 })
    const c = await runCli(['seed', '--store', join(dir, 'store'), '--create-store', '--identity', corrupt], { timeoutMs: 20_000 })
    expect(c.code).to.equal(1)
    expect(c.stderr).to.match(/identity file .*corrupt\.key is corrupt/)
    let err: unknown
    try { await loadOrCreateIdentity(join(dir, 'no-such-dir', 'x.key')) } catch (e) { err = e }
    expect(err).to.be.instanceOf(IdentityFileError)
  })
})
