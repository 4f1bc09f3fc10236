import { expect } from 'chai'
import { Lookup } from '../../../src/core/dht/lookup.js'
import { compareDistance } from '../../../src/core/ids.js'
import type { Contact } from '../../../src/core/dht/contact.js'
import { makeContact } from '../../helpers/core-contacts.js'

const local = makeContact('local').id
const target = makeContact('target').id
const pool = Array.from({ length: 60 }, (_, i) => makeContact(`c${i}`))
const sorted = pool.slice().sort((a, b) => compareDistance(target, a.id, b.id))

describe('core/dht/lookup', () => {
  it('never has more than alpha requests in flight', () => {
    const l = new Lookup({ target, localId: local, seeds: pool.slice(0, 10), k: 5, alpha: 3 })
    let reqs = l.start(0)
    let maxInFlight = l.inFlight
    expect(reqs).to.have.length(3)
    while (!l.done) {
      const r = reqs.shift()
      if (r == null) break
      reqs.push(...l.onResponse(1, r.to.peerId, sorted.filter(c => pool.indexOf(c) >= 10 && pool.indexOf(c) < 40)))
      maxInFlight = Math.max(maxInFlight, l.inFlight)
    }
    expect(maxInFlight).to.equal(3)
    expect(l.done).to.equal(true)
    expect(l.result().closest.map(c => c.peerId)).to.deep.equal(sorted.filter(c => pool.indexOf(c) < 40).slice(0, 5).map(c => c.peerId))
  })

  it('fails a silent peer after its timeout and asks the next candidate', () => {
    const l = new Lookup({ target, localId: local, seeds: pool.slice(0, 4), k: 2, alpha: 1, requestTimeoutMs: 1000 })
    const [first] = l.start(0)
    expect(l.nextDeadlineMs()).to.equal(1000)
    expect(l.handleTimeout(999)).to.have.length(0)
    const next = l.handleTimeout(1000)
    expect(next).to.have.length(1)
    expect(next[0].to.peerId).to.not.equal(first.to.peerId)
    expect(l.result().failures).to.equal(1)
    // A late answer from the timed-out peer is ignored.
    expect(l.onResponse(1500, first.to.peerId, pool)).to.have.length(0)
  })

  it('moves on when a peer vanishes mid-lookup and ends when no one is left', () => {
    const l = new Lookup({ target, localId: local, seeds: pool.slice(0, 3), k: 3, alpha: 3 })
    const reqs = l.start(0)
    for (const r of reqs) l.onFailure(5, r.to.peerId)
    expect(l.done).to.equal(true)
    expect(l.result().closest).to.have.length(0)
    expect(l.result().failures).to.equal(3)
  })

  it('takes at most two contacts of one /16 from a single response', () => {
    const l = new Lookup({ target, localId: local, seeds: [pool[0]], k: 20, alpha: 1 })
    const [r] = l.start(0)
    const sybils: Contact[] = Array.from({ length: 10 }, (_, i) => makeContact(`s${i}`, `5.5.${i}.1`))
    const next = l.onResponse(1, r.to.peerId, sybils)
    expect(next).to.have.length(1)
    let asked = 1
    let pending = next
    while (pending.length > 0) { asked++; pending = l.onResponse(2, pending[0].to.peerId, []) }
    expect(asked).to.equal(3) // the seed plus two of the ten sybils
  })

  it('stops a get-providers lookup once enough providers were found', () => {
    const l = new Lookup({ target, kind: 'get-providers', localId: local, seeds: pool.slice(0, 10), alpha: 3, wantedProviders: 2 })
    const reqs = l.start(0)
    l.onResponse(1, reqs[0].to.peerId, pool.slice(10, 20), [makeContact('p1')])
    expect(l.done).to.equal(false)
    l.onResponse(1, reqs[1].to.peerId, [], [makeContact('p2'), makeContact('p3')])
    expect(l.done).to.equal(true)
    expect(l.result().providers.map(p => p.peerId)).to.deep.equal(['p1', 'p2'])
    expect(l.result().rpcs).to.be.at.most(5)
  })

  it('stops at its RPC budget', () => {
    const l = new Lookup({ target, localId: local, seeds: pool, k: 20, alpha: 3, maxRpcs: 4 })
    let reqs = l.start(0)
    while (reqs.length > 0) { const r = reqs.shift()!; reqs.push(...l.onResponse(1, r.to.peerId, [])) }
    expect(l.done).to.equal(true)
    expect(l.result().rpcs).to.equal(4)
    expect(l.result().exhausted).to.equal(true)
  })

  it('with resiliency 3 ends once the 3 closest answered, and reports the unasked closest as known', () => {
    // Seeds are the 8 closest: every answer names nobody closer, so the lookup has converged after the first three answers.
    const seeds = sorted.slice(0, 8)
    const l = new Lookup({ target, kind: 'get-providers', localId: local, seeds, k: 8, alpha: 3, resiliency: 3 })
    const reqs = l.start(0)
    expect(reqs.map(r => r.to.peerId)).to.deep.equal(seeds.slice(0, 3).map(c => c.peerId))
    // Each answer frees a slot that goes to the next candidate: two requests are still in flight when the third answer ends it.
    for (const r of reqs) l.onResponse(1, r.to.peerId, [])
    expect(l.done).to.equal(true)
    expect(l.result().rpcs).to.equal(5)
    expect(l.result().closest.map(c => c.peerId)).to.deep.equal(seeds.slice(0, 3).map(c => c.peerId))
    expect(l.result().closestKnown.map(c => c.peerId)).to.deep.equal(seeds.map(c => c.peerId))
  })

  it('by default (resiliency k) asks every one of the k closest', () => {
    const seeds = sorted.slice(0, 8)
    const l = new Lookup({ target, kind: 'get-providers', localId: local, seeds, k: 8, alpha: 3 })
    let reqs = l.start(0)
    while (reqs.length > 0) { const r = reqs.shift()!; reqs.push(...l.onResponse(1, r.to.peerId, [])) }
    expect(l.done).to.equal(true)
    expect(l.result().rpcs).to.equal(8)
  })

  it('with resiliency 3 keeps going while a closer contact is named, and leaves a failed one out', () => {
    const far = sorted.slice(10, 16)
    const l = new Lookup({ target, kind: 'get-providers', localId: local, seeds: far, k: 6, alpha: 3, resiliency: 3 })
    const reqs = l.start(0)
    const asked = reqs.map(r => r.to.peerId)
    let pending = [...reqs.slice(1), ...l.onFailure(1, reqs[0].to.peerId)]
    // The first answer names the two closest of all: they must be asked before the lookup may end.
    let first = true
    while (pending.length > 0 && !l.done) {
      const r = pending.shift()!
      const more = l.onResponse(2, r.to.peerId, first ? sorted.slice(0, 2) : [])
      first = false
      asked.push(...more.map(m => m.to.peerId))
      pending.push(...more)
    }
    expect(asked).to.include.members(sorted.slice(0, 2).map(c => c.peerId))
    expect(l.done).to.equal(true)
    const answered = l.result().closest.map(c => c.peerId)
    expect(answered.slice(0, 3)).to.deep.equal([sorted[0], sorted[1], far[1]].map(c => c.peerId))
    expect(l.result().closestKnown.map(c => c.peerId)).to.not.include(reqs[0].to.peerId)
  })
})
