import { IPv4 } from 'ip-num'
import { expect } from 'chai'
import {
  parseIpAddress, parseIpAddressStrict, formatIpAddress, sharedPrefixBits, prefixRange, parseIpPrefix,
  addressScope, IpAddressFormatError, ipToBigInt, compareIpAddresses, ipv4FromNumber
} from '../../../src/core/proximity/ip-address.js'

describe('core/proximity/ip-address', () => {
  it('parses IPv4 into the low word of the mapped form', () => {
    const a = parseIpAddress('8.8.4.4')
    expect(a.family).to.equal(4)
    expect(a.w3).to.equal(0x08080404)
    expect(a.w2).to.equal(0xffff)
    expect(formatIpAddress(a)).to.equal('8.8.4.4')
    expect(parseIpAddress('255.255.255.255').w3).to.equal(0xffffffff)
  })

  it('treats IPv4-mapped IPv6 as the same IPv4 address', () => {
    const mapped = parseIpAddress('::ffff:1.2.3.4')
    expect(mapped.family).to.equal(4)
    expect(compareIpAddresses(mapped, parseIpAddress('1.2.3.4'))).to.equal(0)
    expect(parseIpAddress('::ffff:102:304').family).to.equal(4)
  })

  it('agrees with ip-num on every IPv6 shape the fast path accepts', () => {
    for (const text of ['::', '::1', '1::', '2001:db8::1', '2001:db8:0:0:1:0:0:1', 'fe80::1:2:3:4', '2c0f:fff0:ffff:ffff:ffff:ffff:ffff:ffff', 'ABCD::ef', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8']) {
      expect(ipToBigInt(parseIpAddress(text)), text).to.equal(ipToBigInt(parseIpAddressStrict(text)))
    }
  })

  it('rejects malformed addresses with IpAddressFormatError naming the text', () => {
    for (const bad of ['', '1.2.3', '1.2.3.256', '1.2.3.4.5', '01.2.3.4', '1..2.3', 'a.b.c.d', '1:2', '1:::2', '1::2::3', '12345::', 'hello', '1.2.3.4 ']) {
      expect(() => parseIpAddress(bad), bad).to.throw(IpAddressFormatError, `"${bad}"`)
    }
  })

  it('counts shared prefix bits within a family and zero across families', () => {
    expect(sharedPrefixBits(parseIpAddress('10.1.2.3'), parseIpAddress('10.1.3.3'))).to.equal(23)
    expect(sharedPrefixBits(parseIpAddress('10.1.2.3'), parseIpAddress('10.1.2.3'))).to.equal(32)
    expect(sharedPrefixBits(parseIpAddress('2001:db8::1'), parseIpAddress('2001:db8:8000::'))).to.equal(32)
    expect(sharedPrefixBits(parseIpAddress('2001:db8::1'), parseIpAddress('2001:db8::1'))).to.equal(128)
    expect(sharedPrefixBits(parseIpAddress('2001:db8::1'), parseIpAddress('2001:db8::'))).to.equal(127)
    expect(sharedPrefixBits(parseIpAddress('0.0.0.1'), parseIpAddress('::1'))).to.equal(0)
  })

  it('expands prefixes to their first and last address', () => {
    const r = prefixRange(parseIpAddress('10.1.2.3'), 16)
    expect(formatIpAddress(r.first)).to.equal('10.1.0.0')
    expect(formatIpAddress(r.last)).to.equal('10.1.255.255')
    const all = prefixRange(parseIpAddress('1.2.3.4'), 0)
    expect([all.first.w3, all.last.w3]).to.deep.equal([0, 0xffffffff])
    const r6 = prefixRange(parseIpAddress('2001:db8:1234::'), 33)
    expect(formatIpAddress(r6.first)).to.equal('2001:db8::')
    expect(formatIpAddress(r6.last)).to.equal('2001:db8:7fff:ffff:ffff:ffff:ffff:ffff')
    expect(parseIpPrefix('10.0.0.0/8').prefixBits).to.equal(8)
    expect(() => parseIpPrefix('10.0.0.0/33')).to.throw(IpAddressFormatError)
  })

  it('classifies scopes', () => {
    expect(addressScope(parseIpAddress('8.8.8.8'))).to.equal('public')
    expect(addressScope(parseIpAddress('192.168.1.1'))).to.equal('private')
    expect(addressScope(parseIpAddress('100.64.0.1'))).to.equal('private')
    expect(addressScope(parseIpAddress('127.1.0.1'))).to.equal('loopback')
    expect(addressScope(parseIpAddress('169.254.1.1'))).to.equal('link-local')
    expect(addressScope(parseIpAddress('0.0.0.0'))).to.equal('unspecified')
    expect(addressScope(parseIpAddress('::1'))).to.equal('loopback')
    expect(addressScope(parseIpAddress('fd00::1'))).to.equal('private')
    expect(addressScope(parseIpAddress('2a00:1450::1'))).to.equal('public')
  })

  it('classifies IPv4 scopes as ip-num does, at every range edge and 20,000 random addresses', () => {
    const byIpNum = (w: number): string => {
      const v4 = IPv4.fromNumber(w)
      if (v4.isUnspecified()) return 'unspecified'
      if (v4.isLoopback()) return 'loopback'
      if (v4.isLinkLocal()) return 'link-local'
      if (v4.isPrivate() || (w >>> 22) === ((100 << 2) | 1)) return 'private'
      return 'public'
    }
    const edges = ['0.0.0.0', '0.0.0.1', '9.255.255.255', '10.0.0.0', '10.255.255.255', '11.0.0.0', '100.63.255.255', '100.64.0.0', '100.127.255.255', '100.128.0.0',
      '126.255.255.255', '127.0.0.0', '127.255.255.255', '128.0.0.0', '169.253.255.255', '169.254.0.0', '169.254.255.255', '169.255.0.0',
      '172.15.255.255', '172.16.0.0', '172.31.255.255', '172.32.0.0', '192.167.255.255', '192.168.0.0', '192.168.255.255', '192.169.0.0', '255.255.255.255']
    let seed = 12345
    const random = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed }
    const words = [...edges.map(e => parseIpAddress(e).w3 >>> 0), ...Array.from({ length: 20_000 }, random)]
    for (const w of words) expect(addressScope(ipv4FromNumber(w)), formatIpAddress(ipv4FromNumber(w))).to.equal(byIpNum(w))
  })
})
