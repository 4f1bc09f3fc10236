import { expect } from 'chai'
import { spawnSync } from 'node:child_process'

const NODE = 'node_modules/.bin/node'
function swarmcdn (...args: string[]): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync(NODE, ['bin/swarmcdn.js', ...args], { encoding: 'utf8', timeout: 20000, env: { ...process.env, SWARMCDN_DEBUG: '' } })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('cli: swarmcdn asn', function () {
  this.timeout(30000)

  it('prints AS and org per address from a chosen table', () => {
    const r = swarmcdn('asn', '127.1.0.1', '127.6.255.255', '127.9.0.1', '--table', 'test/fixtures/loopback-as.csv')
    expect(r.status).to.equal(0)
    expect(r.stdout).to.equal('127.1.0.1\tAS64601\tLoopback Net A\n127.6.255.255\tAS64606\tLoopback Net F\n127.9.0.1\t-\tnot in table\n')
  })

  it('prints one JSON object per line with --json', () => {
    const r = swarmcdn('asn', '127.2.0.1', '--json', '--table', 'test/fixtures/loopback-as.pfx2as')
    expect(r.status).to.equal(0)
    expect(JSON.parse(r.stdout)).to.deep.equal({ address: '127.2.0.1', asn: 64602, org: '', range: '127.2.0.0-127.2.255.255' })
  })

  it('merges repeated --table files, the last one winning identical ranges', () => {
    const r = swarmcdn('asn', '127.3.1.1', '--table', 'test/fixtures/loopback-as.pfx2as', '--table', 'test/fixtures/loopback-as.csv')
    expect(r.status).to.equal(0)
    expect(r.stdout).to.equal('127.3.1.1\tAS64603\tLoopback Net C\n')
  })

  it('uses the @ip-location-db/asn tables by default', () => {
    const r = swarmcdn('asn', '8.8.8.8', '2606:4700:4700::1111')
    expect(r.status).to.equal(0)
    expect(r.stdout).to.equal('8.8.8.8\tAS15169\tGoogle LLC\n2606:4700:4700::1111\tAS13335\tCloudflare, Inc.\n')
  })

  it('rejects a malformed address with one line, no stack, exit code 1', () => {
    const r = swarmcdn('asn', '8.8.8.300', '--table', 'test/fixtures/loopback-as.csv')
    expect(r.status).to.equal(1)
    expect(r.stdout).to.equal('')
    expect(r.stderr.trim().split('\n')).to.have.length(1)
    expect(r.stderr).to.match(/^swarmcdn: not an IP address: "8\.8\.8\.300"/)
    expect(r.stderr).not.to.include('    at ')
  })

  it('names file:line of a malformed table line', () => {
    const r = swarmcdn('asn', '8.8.8.8', '--table', 'test/fixtures/README.md')
    expect(r.status).to.equal(1)
    expect(r.stderr.trim().split('\n')).to.have.length(1)
    expect(r.stderr).to.match(/^swarmcdn: test\/fixtures\/README\.md:\d+: /)
  })
})
