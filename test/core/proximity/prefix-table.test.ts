import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import { parseIpAddress as ip } from '../../../src/core/proximity/ip-address.js'
import { loadIpLocationDbTable } from '../../../src/core/proximity/ip-location-db-loader.js'
import { loadCaidaPfx2asTable } from '../../../src/core/proximity/caida-pfx2as-loader.js'
import { PrefixTable, PrefixTableBuilder } from '../../../src/core/proximity/prefix-table.js'
import { PrefixTableFormatError } from '../../../src/core/proximity/prefix-table-format-error.js'
import { AsnResolver } from '../../../src/core/proximity/asn-resolver.js'

function formatErrorOf (fn: () => unknown): PrefixTableFormatError {
  try { fn() } catch (err) {
    expect(err).to.be.instanceOf(PrefixTableFormatError)
    return err as PrefixTableFormatError
  }
  throw new Error('expected a PrefixTableFormatError')
}

const CSV = [
  '1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."',
  '2.26.200.0,2.26.215.255,201907,"LLC ""SPUTNIK"""',
  '8.8.8.0,8.8.8.255,15169,Google LLC',
  '2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC',
  '2c0f:fff0::,2c0f:fff0:ffff:ffff:ffff:ffff:ffff:ffff,37125,Layer3 Limited',
  ''
].join('\r\n')

describe('core/proximity/ip-location-db-loader', () => {
  const table = loadIpLocationDbTable(CSV, { source: 'asn.csv' })

  it('finds the first and last address of a range and nothing in the gaps', () => {
    expect(table.asnOf(ip('1.0.0.0'))).to.equal(13335)
    expect(table.asnOf(ip('1.0.0.255'))).to.equal(13335)
    expect(table.asnOf(ip('1.0.1.0'))).to.equal(0)
    expect(table.asnOf(ip('0.255.255.255'))).to.equal(0)
    expect(table.asnOf(ip('8.8.8.8'))).to.equal(15169)
    expect(table.asnOf(ip('8.8.9.0'))).to.equal(0)
    expect(table.asnOf(ip('255.255.255.255'))).to.equal(0)
  })

  it('looks up IPv6 ranges by first, last and gap addresses', () => {
    expect(table.asnOf(ip('2001:4860::'))).to.equal(15169)
    expect(table.asnOf(ip('2001:4860:4860::8888'))).to.equal(15169)
    expect(table.asnOf(ip('2001:4860:ffff:ffff:ffff:ffff:ffff:ffff'))).to.equal(15169)
    expect(table.asnOf(ip('2001:4861::'))).to.equal(0)
    expect(table.asnOf(ip('2001:485f:ffff:ffff:ffff:ffff:ffff:ffff'))).to.equal(0)
    expect(table.asnOf(ip('2c0f:fff0::1'))).to.equal(37125)
    expect(table.asnOf(ip('::1'))).to.equal(0)
  })

  it('unquotes org names and shares equal names', () => {
    expect(table.lookup(ip('1.0.0.7'))?.org).to.equal('Cloudflare, Inc.')
    expect(table.lookup(ip('2.26.201.1'))?.org).to.equal('LLC "SPUTNIK"')
    expect(table.rangeCount).to.equal(5)
    expect(table.orgCount).to.equal(4)
  })

  it('names file and line of a malformed line', () => {
    const bad = ['1.0.0.0,1.0.0.255,13335,A', '1.0.1.0,1.0.1.x,1,B'].join('\n')
    const err = formatErrorOf(() => loadIpLocationDbTable(bad, { source: 'x.csv' }))
    expect(err.lineNumber).to.equal(2)
    expect(err.message).to.match(/^x\.csv:2: bad last address/)
    expect(formatErrorOf(() => loadIpLocationDbTable('1.0.0.0,1.0.0.9,AS1,A')).message).to.match(/:1: bad AS number "AS1"/)
    expect(formatErrorOf(() => loadIpLocationDbTable('1.0.0.0,1.0.0.9')).message).to.match(/:1: expected 4 fields/)
    expect(formatErrorOf(() => loadIpLocationDbTable('1.0.0.9,1.0.0.0,1,A')).message).to.match(/ends before it starts/)
    expect(formatErrorOf(() => loadIpLocationDbTable('1.0.0.0,::1,1,A')).message).to.match(/mixes IPv4 and IPv6/)
    expect(formatErrorOf(() => loadIpLocationDbTable('1.0.0.0,1.0.0.9,1,"A')).message).to.match(/unterminated/)
    expect(formatErrorOf(() => loadIpLocationDbTable('1.0.0.0,1.0.0.9,1,A,B')).message).to.match(/got more/)
  })

  it('gives the overlap of two ranges that do not nest to the later-starting one', () => {
    const t = loadIpLocationDbTable('1.0.0.0,1.0.0.9,1,A\n1.0.0.5,1.0.0.20,2,B\n1.0.0.0,1.0.0.2,3,C')
    expect([0, 2, 3, 4, 5, 9, 20, 21].map((h) => t.asnOf(ip(`1.0.0.${h}`)))).to.deep.equal([3, 3, 1, 1, 2, 2, 2, 0])
  })

  it('builds an empty table from empty input that answers "unknown"', () => {
    const empty = loadIpLocationDbTable('')
    expect(empty.rangeCount).to.equal(0)
    expect(empty.asnOf(ip('8.8.8.8'))).to.equal(0)
    expect(empty.asnOf(ip('2001:db8::1'))).to.equal(0)
    expect(PrefixTable.empty().lookup(ip('1.1.1.1'))).to.equal(undefined)
  })
})

describe('core/proximity/caida-pfx2as-loader', () => {
  const PFX = [
    '10.0.0.0\t8\t100',
    '10.1.0.0\t16\t101',
    '10.1.2.0\t24\t102',
    '10.1.2.128\t25\t103',
    '10.2.0.0\t16\t4134_4809',
    '10.3.0.0\t16\t7018,7019',
    '2001:db8::\t32\t600',
    '2001:db8:1::\t48\t601'
  ].join('\n')
  const table = loadCaidaPfx2asTable(PFX, { source: 't.pfx2as' })

  it('answers with the most specific of nested prefixes, the outer one elsewhere', () => {
    expect(table.asnOf(ip('10.0.0.1'))).to.equal(100)
    expect(table.asnOf(ip('10.1.0.0'))).to.equal(101)
    expect(table.asnOf(ip('10.1.1.255'))).to.equal(101)
    expect(table.asnOf(ip('10.1.2.0'))).to.equal(102)
    expect(table.asnOf(ip('10.1.2.127'))).to.equal(102)
    expect(table.asnOf(ip('10.1.2.128'))).to.equal(103)
    expect(table.asnOf(ip('10.1.2.255'))).to.equal(103)
    expect(table.asnOf(ip('10.1.3.0'))).to.equal(101)
    expect(table.asnOf(ip('10.1.255.255'))).to.equal(101)
    expect(table.asnOf(ip('10.255.255.255'))).to.equal(100)
    expect(table.asnOf(ip('11.0.0.0'))).to.equal(0)
    expect(table.asnOf(ip('9.255.255.255'))).to.equal(0)
  })

  it('does the same for IPv6', () => {
    expect(table.asnOf(ip('2001:db8::1'))).to.equal(600)
    expect(table.asnOf(ip('2001:db8:1:ffff::1'))).to.equal(601)
    expect(table.asnOf(ip('2001:db8:2::'))).to.equal(600)
    expect(table.asnOf(ip('2001:db9::'))).to.equal(0)
  })

  it('takes the first AS of multi-origin and AS-set entries and keeps the list as org', () => {
    expect(table.lookup(ip('10.2.3.4'))).to.include({ asn: 4134, org: 'origins 4134_4809' })
    expect(table.lookup(ip('10.3.3.4'))).to.include({ asn: 7018, org: 'origins 7018,7019' })
    expect(table.lookup(ip('10.1.0.1'))?.org).to.equal('')
  })

  it('does not need its input sorted', () => {
    const shuffled = loadCaidaPfx2asTable(PFX.split('\n').reverse())
    for (const a of ['10.0.0.1', '10.1.2.200', '10.1.3.0', '10.2.0.1', '2001:db8:1::5', '2001:db8:2::']) {
      expect(shuffled.asnOf(ip(a)), a).to.equal(table.asnOf(ip(a)))
    }
  })

  it('names file and line of a malformed line', () => {
    const lines = ['10.0.0.0\t8\t100', '10.1.0.0\t33\t1']
    expect(formatErrorOf(() => loadCaidaPfx2asTable(lines, { source: 'p' })).message).to.equal('p:2: bad prefix length "33" for IPv4')
    expect(formatErrorOf(() => loadCaidaPfx2asTable('10.0.0.0 8 100')).message).to.match(/:1: expected 3 tab-separated fields/)
    expect(formatErrorOf(() => loadCaidaPfx2asTable('\n10.0.0.0\t8\t1_x')).message).to.match(/:2: bad AS number "x"/)
    expect(formatErrorOf(() => loadCaidaPfx2asTable('10.0.0.300\t8\t1')).message).to.match(/:1: bad prefix/)
  })

  it('reads the loopback fixture the same in both formats', () => {
    const csv = loadIpLocationDbTable(readFileSync('test/fixtures/loopback-as.csv', 'utf8'))
    const pfx = loadCaidaPfx2asTable(readFileSync('test/fixtures/loopback-as.pfx2as', 'utf8'))
    for (let net = 0; net <= 7; net++) {
      for (const host of ['0.0', '0.1', '255.255']) {
        const a = ip(`127.${net}.${host}`)
        expect(pfx.asnOf(a)).to.equal(csv.asnOf(a)).and.to.equal(net <= 6 ? 64600 + net : 0)
      }
    }
    expect(csv.lookup(ip('127.1.0.1'))?.org).to.equal('Loopback Net A')
  })
})

describe('core/proximity/asn-resolver', () => {
  it('answers from the new table right after a swap', () => {
    const a = new PrefixTableBuilder(); a.addPrefix(ip('10.0.0.0'), 8, 1, 'old')
    const b = new PrefixTableBuilder(); b.addPrefix(ip('10.0.0.0'), 8, 2, 'new'); b.addPrefix(ip('11.0.0.0'), 8, 3, 'new')
    const resolver = new AsnResolver(a.build())
    expect(resolver.asnOf(ip('10.1.1.1'))).to.equal(1)
    expect(resolver.asnOf(ip('11.1.1.1'))).to.equal(0)
    const old = resolver.replaceTable(b.build())
    expect(old.asnOf(ip('10.1.1.1'))).to.equal(1)
    expect(resolver.generation).to.equal(1)
    expect(resolver.asnOf(ip('10.1.1.1'))).to.equal(2)
    expect(resolver.lookup(ip('11.1.1.1'))?.org).to.equal('new')
    expect(resolver.asnOf(undefined)).to.equal(0)
  })
})
