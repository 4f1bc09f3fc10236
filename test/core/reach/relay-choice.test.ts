import { expect } from 'chai'
import { relaysWanted, servesRelay } from '../../../src/core/reach/relay-choice.js'
import type { Contact } from '../../../src/core/dht/contact.js'

const sn = (id: string, origin = false): Contact => ({ id: new Uint8Array(32), peerId: id, addrs: ['/ip4/12.0.2.10/tcp/4001'], ...(origin ? { origin: true } : {}) })

describe('core/reach/relay-choice', () => {
  it('members relay, leaves never do', () => {
    expect(servesRelay('supernode')).to.equal(true)
    expect(servesRelay('seeder')).to.equal(true)
    expect(servesRelay('leaf')).to.equal(false)
  })

  it('a leaf others cannot dial reserves at its attached supernodes, not at an origin seeder', () => {
    const attached = [sn('A'), sn('S', true), sn('B')]
    expect(relaysWanted('leaf', 'private', attached).map(c => c.peerId)).to.deep.equal(['A', 'B'])
  })

  it('a reachable or not yet measured leaf, and any member, reserves nowhere', () => {
    const attached = [sn('A'), sn('B')]
    expect(relaysWanted('leaf', 'public', attached)).to.deep.equal([])
    expect(relaysWanted('leaf', 'unknown', attached)).to.deep.equal([])
    expect(relaysWanted('supernode', 'private', attached)).to.deep.equal([])
  })
})
