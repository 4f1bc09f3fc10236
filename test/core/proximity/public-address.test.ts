import { expect } from 'chai'
import { formatIpAddress } from '../../../src/core/proximity/ip-address.js'
import { pickPublicAddress, ipOfMultiaddr } from '../../../src/core/proximity/public-address.js'

const pick = (addrs: string[], overrideIp?: string): string | undefined => {
  const a = pickPublicAddress(addrs, { overrideIp })
  return a === undefined ? undefined : formatIpAddress(a)
}

describe('core/proximity/public-address', () => {
  it('picks the public address reported most often', () => {
    expect(pick(['/ip4/192.168.1.5/tcp/4001', '/ip4/203.0.113.9/tcp/4001', '/ip4/198.51.100.7/tcp/1', '/ip4/198.51.100.7/tcp/2/p2p/QmX'])).to.equal('198.51.100.7')
  })

  it('breaks a tie in favour of the first reported', () => {
    expect(pick(['/ip4/203.0.113.9/tcp/4001', '/ip4/198.51.100.7/tcp/1'])).to.equal('203.0.113.9')
  })

  it('falls back to private, then loopback, when nothing public was seen', () => {
    expect(pick(['/ip4/127.1.0.1/tcp/1', '/ip4/10.0.0.2/tcp/1', '/ip4/127.1.0.1/tcp/2'])).to.equal('10.0.0.2')
    expect(pick(['/ip4/127.1.0.1/tcp/1', '/ip4/0.0.0.0/tcp/1'])).to.equal('127.1.0.1')
  })

  it('reads IPv6 and ignores relay, dns and garbage addresses', () => {
    expect(pick(['/ip6/2001:db8::1/tcp/1', '/dns4/example.com/tcp/1', '/ip4/9.9.9.9/tcp/1/p2p/QmR/p2p-circuit', 'junk', '/ip4/1.2.3/tcp/1'])).to.equal('2001:db8::1')
    expect(ipOfMultiaddr('/ip4/2001:db8::1/tcp/1')).to.equal(undefined)
    expect(pick([])).to.equal(undefined)
  })

  it('uses an explicit override and rejects a malformed one', () => {
    expect(pick(['/ip4/203.0.113.9/tcp/4001'], '127.3.0.1')).to.equal('127.3.0.1')
    expect(() => pick([], '300.1.1.1')).to.throw(/"300\.1\.1\.1"/)
  })
})
