import { expect } from 'chai'
import { multiaddr } from '@multiformats/multiaddr'
import { tcpEndpoint, verdictOf } from '../../src/net/autonat-client.js'
import { AutoNatDialResponse, AutoNatDialStatus, AutoNatMessage } from '../../src/net/autonat-v2-pb.js'

const OK = AutoNatDialResponse.ResponseStatus.OK
const res = (status: AutoNatDialResponse.ResponseStatus, dialStatus: AutoNatDialStatus): AutoNatDialResponse => ({ status, addrIdx: 0, dialStatus })

describe('net/autonat-client', () => {
  it('reads a verifier answer as dialable, not dialable, or no verdict', () => {
    expect(verdictOf(res(OK, AutoNatDialStatus.OK), true)).to.equal(true)
    expect(verdictOf(res(OK, AutoNatDialStatus.E_DIAL_ERROR), true)).to.equal(false)
    // With our nonce registered, a dial-back that failed reached someone who did not know it: no verdict.
    expect(verdictOf(res(OK, AutoNatDialStatus.E_DIAL_BACK_ERROR), true)).to.equal(undefined)
    // Without, the verifier's dial connected (libp2p's client refused an unknown nonce): dialable.
    expect(verdictOf(res(OK, AutoNatDialStatus.E_DIAL_BACK_ERROR), false)).to.equal(true)
    expect(verdictOf(res(AutoNatDialResponse.ResponseStatus.E_DIAL_REFUSED, AutoNatDialStatus.UNUSED), true)).to.equal(undefined)
    expect(verdictOf(res(AutoNatDialResponse.ResponseStatus.E_REQUEST_REJECTED, AutoNatDialStatus.UNUSED), true)).to.equal(undefined)
  })

  it('encodes a dial request with the spec field numbers (addrs = 1, fixed64 nonce = 2, inside field 1)', () => {
    const addr = multiaddr('/ip4/11.0.1.10/tcp/4001').bytes
    const bytes = AutoNatMessage.encode({ dialRequest: { addrs: [addr], nonce: 0x0102030405060708n } })
    const inner = [0x0a, addr.length, ...addr, 0x11, 8, 7, 6, 5, 4, 3, 2, 1]
    expect([...bytes]).to.deep.equal([0x0a, inner.length, ...inner])
    const back = AutoNatMessage.decode(bytes)
    expect(back.dialRequest?.nonce).to.equal(0x0102030405060708n)
  })

  it('takes only plain TCP addresses as endpoints', () => {
    expect(tcpEndpoint('/ip4/11.0.1.10/tcp/4001')).to.deep.equal({ ip: '11.0.1.10', port: 4001 })
    expect(tcpEndpoint('/ip4/11.0.1.10/tcp/4001/p2p/12D3KooWExxFdcRteYkUJ2KFhmeHdDEfPXeVxTNxo2KYKW3Lzrab/p2p-circuit')).to.equal(undefined)
    expect(tcpEndpoint('/ip4/11.0.1.10/tcp/0')).to.equal(undefined)
  })
})
