import { expect } from 'chai'
import { reservationRefusal, type HeldReservation } from '../../../src/core/reach/relay-admission.js'

const held = (n: number, prefix: string): HeldReservation[] => Array.from({ length: n }, (_, i) => ({ peerId: `${prefix}${i}`, ip: `${prefix}.${i + 1}` }))

describe('core/reach/relay-admission', () => {
  it('refuses a ninth reservation from one /24 when the limit is 8, whatever the peer id', () => {
    const h = held(8, '31.0.9')
    expect(reservationRefusal({ peerId: 'new', ip: '31.0.9.200' }, h, 8)).to.match(/8 of 8/)
    expect(reservationRefusal({ peerId: 'new', ip: '31.0.9.200' }, h.slice(1), 8)).to.equal(undefined)
  })

  it('grants a requester from another network while one network is at its limit', () => {
    expect(reservationRefusal({ peerId: 'home', ip: '21.0.1.2' }, held(8, '31.0.9'), 8)).to.equal(undefined)
  })

  it('always renews a reservation its holder already has', () => {
    const h = held(8, '31.0.9')
    expect(reservationRefusal({ peerId: '31.0.93', ip: '31.0.9.4' }, h, 8)).to.equal(undefined)
  })

  it('counts IPv6 requesters per /48', () => {
    const h: HeldReservation[] = [{ peerId: 'a', ip: '2001:db8:1:1::1' }, { peerId: 'b', ip: '2001:db8:1:2::1' }]
    expect(reservationRefusal({ peerId: 'c', ip: '2001:db8:1:ffff::9' }, h, 2)).to.match(/2 of 2/)
    expect(reservationRefusal({ peerId: 'c', ip: '2001:db8:2::9' }, h, 2)).to.equal(undefined)
  })

  it('refuses a requester seen on no IP, and ignores holders of unknown IP in the count', () => {
    expect(reservationRefusal({ peerId: 'x', ip: undefined }, [], 8)).to.match(/no IP/)
    expect(reservationRefusal({ peerId: 'x', ip: '31.0.9.1' }, [{ peerId: 'y', ip: undefined }], 1)).to.equal(undefined)
  })
})
