import { expect } from 'chai'
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { parseIpAddress as ip, parseIpAddressStrict, ipToBigInt } from '../../src/core/proximity/ip-address.js'
import { PrefixTable } from '../../src/core/proximity/prefix-table.js'
import { PrefixTableFormatError } from '../../src/core/proximity/prefix-table-format-error.js'
import { AsnResolver } from '../../src/core/proximity/asn-resolver.js'
import { defaultPrefixTablePaths, loadPrefixTableFiles, loadPrefixTableFilesAsync, PrefixTableFileError } from '../../src/client/prefix-table-files.js'

describe('client/prefix-table-files', () => {
  let full: PrefixTable
  before(function () {
    this.timeout(20000)
    full = loadPrefixTableFiles()
  })

  it('loads the @ip-location-db/asn v4 and v6 tables by default', () => {
    expect(defaultPrefixTablePaths().map((p) => p.split('/').pop())).to.deep.equal(['asn-ipv4.csv', 'asn-ipv6.csv'])
    expect(full.v4RangeCount).to.be.greaterThan(400_000)
    expect(full.v6RangeCount).to.be.greaterThan(100_000)
  })

  it('knows well-known addresses (checked against the CSV lines)', () => {
    // asn-ipv4.csv: 8.8.8.0,8.8.8.255,15169,Google LLC / 1.1.1.0,1.1.1.255,13335,"Cloudflare, Inc."
    expect(full.lookup(ip('8.8.8.8'))).to.include({ asn: 15169, org: 'Google LLC' })
    expect(full.lookup(ip('1.1.1.1'))).to.include({ asn: 13335, org: 'Cloudflare, Inc.' })
    expect(full.asnOf(ip('8.8.9.1'))).to.equal(23089)
    expect(full.asnOf(ip('2001:4860:4860::8888'))).to.equal(15169)
    expect(full.asnOf(ip('2606:4700:4700::1111'))).to.equal(13335)
    expect(full.asnOf(ip('10.0.0.1'))).to.equal(0)
    expect(full.asnOf(ip('127.0.0.1'))).to.equal(0)
  })

  it('parses every 50th real table address exactly as ip-num does', () => {
    for (const path of defaultPrefixTablePaths()) {
      const lines = readFileSync(path, 'utf8').split('\n')
      for (let i = 0; i < lines.length; i += 50) {
        if (lines[i] === '') continue
        const [first, last] = lines[i].split(',')
        for (const text of [first, last]) expect(ipToBigInt(ip(text)), text).to.equal(ipToBigInt(parseIpAddressStrict(text)))
      }
    }
  })

  it('tells CAIDA from ip-location-db by content and merges several files', () => {
    const table = loadPrefixTableFiles(['test/fixtures/loopback-as.pfx2as', 'test/fixtures/loopback-as.csv'])
    expect(table.sources).to.deep.equal(['test/fixtures/loopback-as.pfx2as', 'test/fixtures/loopback-as.csv'])
    // identical ranges: the file loaded last wins, so the CSV's org names show
    expect(table.lookup(ip('127.2.9.9'))).to.include({ asn: 64602, org: 'Loopback Net B' })
  })

  it('names the file and line of a malformed line, and a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarmcdn-pt-'))
    try {
      const bad = join(dir, 'bad.pfx2as')
      writeFileSync(bad, '# comment\n10.0.0.0\t8\t1\n10.0.0.0\t8\tx\n')
      expect(() => loadPrefixTableFiles([bad])).to.throw(PrefixTableFormatError, `${bad}:3: bad AS number "x"`)
      expect(() => loadPrefixTableFiles([join(dir, 'missing.csv')])).to.throw(PrefixTableFileError, /ENOENT/)
    } finally {
      rmSync(dir, { recursive: true })
    }
  })

  it('swaps a running resolver from the loopback table to the full one', async () => {
    const resolver = new AsnResolver(loadPrefixTableFiles(['test/fixtures/loopback-as.csv']))
    expect(resolver.asnOf(ip('127.3.0.1'))).to.equal(64603)
    expect(resolver.asnOf(ip('8.8.8.8'))).to.equal(0)
    resolver.replaceTable(await loadPrefixTableFilesAsync(['test/fixtures/loopback-as.csv', 'test/fixtures/loopback-as.pfx2as']))
    resolver.replaceTable(full)
    expect(resolver.asnOf(ip('8.8.8.8'))).to.equal(15169)
    expect(resolver.asnOf(ip('127.3.0.1'))).to.equal(0)
    expect(resolver.generation).to.equal(2)
  })
})
