import { expect } from 'chai'
import { mkdtemp, writeFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { runCli } from '../helpers/run-cli.js'
import { parseContentId } from '../../src/core/content/content-id.js'

describe('cli: keygen and publish', function () {
  this.timeout(60_000)
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'swarmcdn-cli-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('writes a key with mode 0600 and refuses to overwrite it', async () => {
    const first = await runCli(['keygen', '--out', join(dir, 'p.key')])
    expect(first.code).to.equal(0)
    expect((await stat(join(dir, 'p.key'))).mode & 0o777).to.equal(0o600)
    const second = await runCli(['keygen', '--out', join(dir, 'p.key')])
    expect(second.code).to.equal(1)
    expect(second.stderr.trim().split('\n')).to.have.length(1)
    expect(second.stderr).to.match(/already exists/)
  })

  it('publishes a file and prints a valid content id, the same one twice', async () => {
    await writeFile(join(dir, 'song.mp3'), randomBytes(50_000))
    const a = await runCli(['publish', join(dir, 'song.mp3'), '--key', join(dir, 'p.key'), '--store', join(dir, 'store'), '--piece-size', '16KiB'])
    expect(a.code, a.stderr).to.equal(0)
    const id = a.stdout.trim()
    expect(parseContentId(id)).to.equal(id)
    const b = await runCli(['publish', join(dir, 'song.mp3'), '--key', join(dir, 'p.key'), '--store', join(dir, 'store'), '--piece-size', '16KiB', '--json'])
    expect(JSON.parse(b.stdout)).to.include({ event: 'published', contentId: id, mediaType: 'audio/mpeg', pieces: 4 })
  })

  for (const [what, args, pattern] of [
    ['a missing file', ['publish', 'nope.bin', '--key', 'p.key', '--store', 'store'], /nope\.bin does not exist/],
    ['a missing key file', ['publish', 'song.mp3', '--key', 'missing.key', '--store', 'store'], /missing\.key does not exist/],
    ['a bad piece size', ['publish', 'song.mp3', '--key', 'p.key', '--store', 'store', '--piece-size', '3000'], /power of two/]
  ] as Array<[string, string[], RegExp]>) {
    it(`reports ${what} in one line with exit code 1 and no stack trace`, async () => {
      const r = await runCli(args, { cwd: dir })
      expect(r.code).to.equal(1)
      expect(r.stderr).to.match(pattern)
      expect(r.stderr).not.to.match(/\n\s+at /)
      expect(r.stderr.trim().split('\n')).to.have.length(1)
    })
  }
})
