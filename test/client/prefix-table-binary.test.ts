import { expect } from 'chai'
import { existsSync, readFileSync } from 'node:fs'
import { parseIpAddress as ip } from '../../src/core/proximity/ip-address.js'
import { PrefixTable } from '../../src/core/proximity/prefix-table.js'
import { decodePrefixTable, encodePrefixTable, PrefixTableBinaryError, prefixTableStamp } from '../../src/client/prefix-table-binary.js'
import { defaultPrefixTableBinaryPath, defaultPrefixTablePaths, defaultPrefixTableStamp, loadPrefixTableCsvs, loadPrefixTableFiles } from '../../src/client/prefix-table-files.js'

const FIXTURES = ['test/fixtures/loopback-as.csv', 'test/fixtures/loopback-as.pfx2as']

/** Every range of `a` and `b` alike: bounds, AS number, organisation. */
function expectSameRanges (a: PrefixTable, b: PrefixTable, step = 1): void {
  expect(b.v4RangeCount).to.equal(a.v4RangeCount)
  expect(b.v6RangeCount).to.equal(a.v6RangeCount)
  for (let i = 0; i < a.rangeCount; i += step) {
    expect(b.rangeAt(i), `range ${i}`).to.deep.equal(a.rangeAt(i))
    expect(b.asnAt(i)).to.equal(a.asnAt(i))
    expect(b.orgAt(i)).to.equal(a.orgAt(i))
  }
}

describe('client/prefix-table-binary', () => {
  it('gives back the same table it encoded, with the sources it is told', () => {
    for (const path of FIXTURES) {
      const table = loadPrefixTableCsvs([path])
      const decoded = decodePrefixTable(encodePrefixTable(table, 'fixture'), 'fixture', [path])
      expect(decoded).to.be.instanceOf(PrefixTable)
      expectSameRanges(table, decoded!)
      expect(decoded!.sources).to.deep.equal([path])
      expect(decoded!.lookup(ip('127.1.0.1'))?.asn).to.equal(64601)
    }
  })

  it('encodes IPv6 ranges and an empty table', () => {
    const table = loadPrefixTableCsvs([defaultPrefixTablePaths()[1]])
    expectSameRanges(table, decodePrefixTable(encodePrefixTable(table, 's'), 's', [])!, 97)
    const empty = decodePrefixTable(encodePrefixTable(PrefixTable.empty(), 's'), 's', [])!
    expect(empty.rangeCount).to.equal(0)
    expect(empty.asnOf(ip('8.8.8.8'))).to.equal(0)
  })

  it('reads a block that does not start on a 4-byte boundary (copies it)', () => {
    const table = loadPrefixTableCsvs([FIXTURES[0]])
    const bytes = encodePrefixTable(table, 'x')
    const shifted = new Uint8Array(bytes.length + 1).subarray(1)
    shifted.set(bytes)
    expectSameRanges(table, decodePrefixTable(shifted, 'x', [])!)
  })

  it('answers undefined for another stamp or another format, and throws on a truncated block', () => {
    const bytes = encodePrefixTable(loadPrefixTableCsvs([FIXTURES[0]]), 'table v1')
    expect(prefixTableStamp(bytes)).to.equal('table v1')
    expect(decodePrefixTable(bytes, 'table v2', [])).to.equal(undefined)
    expect(decodePrefixTable(new TextEncoder().encode('first,last,asn,org\n'), 'table v1', [])).to.equal(undefined)
    expect(() => decodePrefixTable(bytes.subarray(0, bytes.length - 40), 'table v1', [])).to.throw(PrefixTableBinaryError)
  })

  it('the build wrote the default table\'s block, and it holds exactly what the CSVs say', function () {
    this.timeout(20_000)
    expect(existsSync(defaultPrefixTableBinaryPath()), 'run npm run build').to.equal(true)
    expect(prefixTableStamp(readFileSync(defaultPrefixTableBinaryPath()))).to.equal(defaultPrefixTableStamp())
    expectSameRanges(loadPrefixTableCsvs(defaultPrefixTablePaths()), loadPrefixTableFiles(), 13)
  })
})
