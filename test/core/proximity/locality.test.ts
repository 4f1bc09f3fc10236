import { expect } from 'chai'
import { parseIpAddress as ip } from '../../../src/core/proximity/ip-address.js'
import { addLocalityBytes, classifyIpv4Locality, classifyLocality, emptyLocalityBytes, LOCALITY_CLASSES } from '../../../src/core/proximity/locality.js'

const at = (address: string | undefined, asn: number): { address: ReturnType<typeof ip> | undefined, asn: number } =>
  ({ address: address === undefined ? undefined : ip(address), asn })

function v4 (text: string): number {
  return text.split('.').reduce((n, o) => n * 256 + Number(o), 0)
}

describe('core/proximity/locality', () => {
  it('calls two peers in one known AS same-as, even in distant prefixes', () => {
    expect(classifyLocality(at('10.1.2.3', 64601), at('172.16.0.1', 64601))).to.equal('same-as')
  })

  it('calls a shared /24 same-prefix across different or unknown ASes, and a /23 not', () => {
    expect(classifyLocality(at('10.1.2.3', 64601), at('10.1.2.200', 64602))).to.equal('same-prefix')
    expect(classifyLocality(at('10.1.2.3', 0), at('10.1.2.200', 0))).to.equal('same-prefix')
    expect(classifyLocality(at('10.1.2.3', 0), at('10.1.3.3', 0))).to.equal('unknown')
    expect(classifyLocality(at('10.1.2.3', 64601), at('10.1.3.3', 64602))).to.equal('other-as')
  })

  it('uses /48 for IPv6 and never matches across families', () => {
    expect(classifyLocality(at('2001:db8:1::1', 0), at('2001:db8:1:ff::2', 0))).to.equal('same-prefix')
    expect(classifyLocality(at('2001:db8:1::1', 0), at('2001:db8:2::1', 0))).to.equal('unknown')
    expect(classifyLocality(at('10.0.0.1', 0), at('::ffff:10.0.0.2', 0))).to.equal('same-prefix')
    expect(classifyLocality(at('10.0.0.1', 1), at('2001:db8::1', 2))).to.equal('other-as')
  })

  it('says unknown when an AS or address is missing and nothing else decides', () => {
    expect(classifyLocality(at(undefined, 0), at(undefined, 0))).to.equal('unknown')
    expect(classifyLocality(at('10.0.0.1', 64601), at(undefined, 0))).to.equal('unknown')
    expect(classifyLocality(at(undefined, 64601), at(undefined, 64601))).to.equal('same-as')
    expect(classifyLocality(at(undefined, 64601), at(undefined, 64602))).to.equal('other-as')
  })

  it('is symmetric', () => {
    const places = [at('10.1.2.3', 1), at('10.1.2.4', 2), at('10.9.0.1', 1), at(undefined, 0), at('2001:db8::1', 0), at('10.1.2.5', 0)]
    for (const a of places) for (const b of places) expect(classifyLocality(a, b)).to.equal(classifyLocality(b, a))
  })

  it('gives the same class from raw IPv4 numbers as from addresses (the simulator path)', () => {
    const cases: Array<[string, number, string, number]> = [
      ['10.1.2.3', 7, '10.200.0.1', 7], ['10.1.2.3', 7, '10.1.2.9', 8], ['10.1.2.3', 7, '10.1.3.9', 8],
      ['10.1.2.3', 0, '10.1.3.9', 8], ['255.255.255.255', 0, '255.255.255.0', 0], ['0.0.0.0', 1, '128.0.0.0', 2]
    ]
    for (const [a, asnA, b, asnB] of cases) {
      expect(classifyIpv4Locality(asnA, v4(a), asnB, v4(b)), `${a} ${b}`).to.equal(classifyLocality(at(a, asnA), at(b, asnB)))
    }
  })

  it('tallies bytes per class', () => {
    const c = emptyLocalityBytes()
    addLocalityBytes(c, 'same-as', 10)
    addLocalityBytes(c, 'same-as', 5)
    addLocalityBytes(c, 'unknown', 1)
    expect(c).to.deep.equal({ 'same-as': 15, 'same-prefix': 0, 'other-as': 0, unknown: 1 })
    expect(Object.keys(c)).to.deep.equal([...LOCALITY_CLASSES])
  })
})
