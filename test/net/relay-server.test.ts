import { expect } from 'chai'
import { RELAY_SERVER_DEFAULTS, RelayOptionError, resolveRelayServerInit } from '../../src/net/relay-server.js'
import { isLoopbackRelayed, relayListenAddr } from '../../src/net/relay-reservations.js'

describe('net/relay-server and relay-reservations', () => {
  it('applies one default per limit and rejects values that are not positive integers', () => {
    expect(resolveRelayServerInit()).to.deep.equal(RELAY_SERVER_DEFAULTS)
    expect(resolveRelayServerInit({ maxReservations: 3, relayPieces: true })).to.include({ maxReservations: 3, relayPieces: true, maxRelayedConnectionsPerLeaf: 16 })
    expect(() => resolveRelayServerInit({ maxReservations: 0 })).to.throw(RelayOptionError)
    expect(() => resolveRelayServerInit({ maxReservationsPerNetwork: 0 })).to.throw(RelayOptionError)
    expect(resolveRelayServerInit().maxReservationsPerNetwork).to.equal(8)
    expect(() => resolveRelayServerInit({ maxBytesPerRelayedConnection: 1.5 })).to.throw(RelayOptionError)
  })

  it('reserves over a relay\'s public address, else a non-loopback one, never over loopback alone', () => {
    const c = (addrs: string[]): { id: Uint8Array, peerId: string, addrs: string[] } => ({ id: new Uint8Array(32), peerId: 'R', addrs })
    expect(relayListenAddr(c(['/ip4/127.0.0.1/tcp/4001', '/ip4/12.0.2.10/tcp/4001']))).to.equal('/ip4/12.0.2.10/tcp/4001/p2p/R/p2p-circuit')
    expect(relayListenAddr(c(['/ip4/127.0.0.1/tcp/4001', '/ip4/10.0.0.5/tcp/4001']))).to.equal('/ip4/10.0.0.5/tcp/4001/p2p/R/p2p-circuit')
    expect(relayListenAddr(c(['/ip4/127.0.0.1/tcp/4001']))).to.equal(undefined)
    expect(isLoopbackRelayed('/ip4/127.0.0.1/tcp/4001/p2p/R/p2p-circuit')).to.equal(true)
    expect(isLoopbackRelayed('/ip4/12.0.2.10/tcp/4001/p2p/R/p2p-circuit')).to.equal(false)
    expect(isLoopbackRelayed('/ip4/127.0.0.1/tcp/4001')).to.equal(false)
  })
})
