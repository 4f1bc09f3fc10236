import { expect } from 'chai'
import { addressScope, compareIpAddresses, formatIpAddress, parseIpAddress as ip, parseIpPrefix, prefixRange } from '../../src/core/proximity/ip-address.js'
import { PrefixTable } from '../../src/core/proximity/prefix-table.js'
import { loadPrefixTableFiles } from '../../src/client/prefix-table-files.js'
import { LazyAsnResolver, NEVER_ROUTED, prefixTableResolver } from '../../src/client/lazy-asn-resolver.js'

describe('client/lazy-asn-resolver', () => {
  let full: PrefixTable
  before(function () {
    this.timeout(20000)
    full = loadPrefixTableFiles()
  })

  it('reads the table at the first lookup of a public address, once', () => {
    let loads = 0
    const r = new LazyAsnResolver(() => { loads++; return full })
    for (const a of ['127.0.0.1', '127.12.3.1', '10.1.2.3', '192.168.1.9', '172.16.5.5', '100.64.0.1', '169.254.1.1', '::1', 'fe80::1', 'fd00::7', '192.0.2.2', '203.0.113.9', '2001:db8::5', '239.1.1.1']) {
      expect(r.asnOf(ip(a)), a).to.equal(0)
      expect(r.lookup(ip(a)), a).to.equal(undefined)
    }
    expect(r.asnOf(undefined)).to.equal(0)
    expect(loads).to.equal(0)
    expect(r.loaded).to.equal(false)
    expect(r.asnOf(ip('8.8.8.8'))).to.equal(15169)
    expect(r.lookup(ip('2001:4860:4860::8888'))?.asn).to.equal(15169)
    expect(loads).to.equal(1)
    expect(r.generation).to.equal(1)
  })

  it('reads the table when it is asked for, and never after a table was swapped in', () => {
    let loads = 0
    const asked = new LazyAsnResolver(() => { loads++; return full })
    expect(asked.table.rangeCount).to.equal(full.rangeCount)
    expect(loads).to.equal(1)
    const swapped = new LazyAsnResolver(() => { loads++; return full })
    swapped.replaceTable(PrefixTable.empty())
    expect(swapped.asnOf(ip('8.8.8.8'))).to.equal(0)
    expect(loads).to.equal(1)
  })

  it('reads tables the user names at once (they may map loopback addresses)', () => {
    const r = prefixTableResolver(['test/fixtures/loopback-as.csv'])
    expect(r).to.not.be.instanceOf(LazyAsnResolver)
    expect(r.asnOf(ip('127.1.0.1'))).to.not.equal(0)
    expect(prefixTableResolver([]).table.rangeCount).to.equal(0)
    expect(prefixTableResolver(undefined)).to.be.instanceOf(LazyAsnResolver)
  })

  it('the shipped default table maps no loopback, private, link-local, unspecified or never-routed address (what laziness relies on)', function () {
    this.timeout(20000)
    // Every block addressScope calls non-public (ip-num's ranges for IPv6), against every range of the table.
    const nonPublic = ['0.0.0.0/32', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16', '::/128', '::1/128', 'fc00::/7', 'fe80::/10']
      .map(b => { const p = parseIpPrefix(b); return { b, ...prefixRange(p.address, p.prefixBits) } })
    for (const { b, first } of nonPublic) expect(addressScope(first), b).to.not.equal('public')
    const blocks = [...nonPublic, ...NEVER_ROUTED.map(r => ({ b: `${formatIpAddress(r.first)}-${formatIpAddress(r.last)}`, ...r }))]
    const overlaps: string[] = []
    for (let i = 0; i < full.rangeCount; i++) {
      const r = full.rangeAt(i)
      for (const block of blocks) {
        if (r.first.family === block.first.family && compareIpAddresses(r.first, block.last) <= 0 && compareIpAddresses(r.last, block.first) >= 0) overlaps.push(`range ${i} overlaps ${block.b}`)
      }
    }
    expect(overlaps).to.deep.equal([])
  })
})
