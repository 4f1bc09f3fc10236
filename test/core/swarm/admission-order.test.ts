import { expect } from 'chai'
import { AdmissionOrder, type Admission } from '../../../src/core/swarm/admission-order.js'

interface Entry extends Admission { name: string, live: boolean }
const entry = (seq: number): Entry => ({ seq, inOrder: false, name: `e${seq}`, live: true })
const names = (o: AdmissionOrder<Entry>): string[] => o.all.map(e => e.name)

describe('core/swarm/admission-order', () => {
  it('keeps entries in admission order whatever order they enter in, once each', () => {
    const o = new AdmissionOrder<Entry>()
    const [e1, e2, e3, e4] = [1, 2, 3, 4].map(entry)
    o.enter(e4); o.enter(e1); o.enter(e3); o.enter(e2); o.enter(e3)
    expect(names(o)).to.deep.equal(['e1', 'e2', 'e3', 'e4'])
  })

  it('keeps stale entries in place until they are many and outnumber the live ones, then drops them', () => {
    const o = new AdmissionOrder<Entry>()
    const all = Array.from({ length: 200 }, (_, i) => entry(i))
    for (const e of all) o.enter(e)
    // 64 stale of 200: kept (a walk skips them).
    for (const e of all.slice(0, 64)) { e.live = false; o.staled(e) }
    o.compact(e => e.live)
    expect(o.all).to.have.length(200)
    // One revived: it counts again, in its place.
    all[10].live = true; o.enter(all[10])
    // 101 stale of 200: dropped, and they may enter again later.
    for (const e of all.slice(100, 138)) { e.live = false; o.staled(e) }
    o.compact(e => e.live)
    expect(o.all).to.have.length(99)
    expect(o.all.every(e => e.live)).to.equal(true)
    expect(all[0].inOrder).to.equal(false)
    all[0].live = true; o.enter(all[0])
    expect(o.all[0].name).to.equal('e0')
    expect(o.all[1].name).to.equal('e10')
  })
})
