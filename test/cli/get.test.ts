import { expect } from 'chai'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { tmpdir } from 'node:os'

const MAIN = join(process.cwd(), 'dist', 'src', 'cli', 'main.js')
const ID = 'bafkreifualh2ao7dlxyjkhhxpy4kvv4jxjc2pmc6nzvkkdjuv7ax6jmniq'

function run (...args: string[]): { status: number | null, stderr: string, stdout: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, SWARMCDN_DEBUG: '' } })
  return { status: r.status, stderr: r.stderr, stdout: r.stdout }
}

describe('cli: swarmcdn get', function () {
  this.timeout(30_000)
  const out = join(tmpdir(), `swarmcdn-cli-${process.pid}.bin`)

  it('rejects a bad content id with one line and exit 1', () => {
    const r = run('get', 'not-a-cid', '--peer', '/ip4/127.0.0.1/tcp/1', '-o', out)
    expect(r.status).to.equal(1)
    expect(r.stderr.trim().split('\n')).to.have.length(1)
    expect(r.stderr).to.match(/^swarmcdn: not a content id/)
    expect(r.stderr).to.not.match(/\n\s+at /)
  })

  it('reports an unreachable peer with one line and exit 1', () => {
    const r = run('get', ID, '--peer', '/ip4/127.0.0.1/tcp/1', '-o', out)
    expect(r.status).to.equal(1)
    expect(r.stderr.trim().split('\n')).to.have.length(1)
    expect(r.stderr).to.match(/connection refused/)
    expect(r.stderr).to.not.match(/\n\s+at /)
  })

  it('shows an example in --help', () => {
    const r = run('get', '--help')
    expect(r.status).to.equal(0)
    expect(r.stdout).to.match(/Example:\n\s+\$ swarmcdn get/)
  })
})
