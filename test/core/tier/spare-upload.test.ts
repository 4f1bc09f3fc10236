import { expect } from 'chai'
import { SpareUploadMeter, SpareUploadOptionError } from '../../../src/core/tier/spare-upload.js'
import { estimateRegionLeaves } from '../../../src/core/tier/region-leaves.js'

/** Samples a counter growing at `bytesPerSec` once a second from `fromMs` for `seconds`; returns the last time and total. */
function feed (m: SpareUploadMeter, fromMs: number, seconds: number, bytesPerSec: number, startBytes = 0): { atMs: number, bytes: number } {
  let bytes = startBytes
  let atMs = fromMs
  for (let s = 0; s <= seconds; s++) {
    atMs = fromMs + s * 1000
    m.sample(atMs, bytes)
    bytes += bytesPerSec
  }
  return { atMs, bytes: bytes - bytesPerSec }
}

describe('core/tier/spare-upload', () => {
  it('a peer that has not uploaded spares nothing unless a capacity is configured', () => {
    const m = new SpareUploadMeter()
    const { atMs } = feed(m, 0, 30, 0)
    expect(m.spareBytesPerSec(atMs)).to.equal(0)
    expect(m.spareBytesPerSec(atMs, 2_000_000)).to.equal(2_000_000)
  })

  it('spares the configured capacity less the mean upload of the last minute', () => {
    const m = new SpareUploadMeter()
    const { atMs } = feed(m, 0, 90, 500_000)
    expect(m.spareBytesPerSec(atMs, 2_000_000)).to.be.closeTo(1_500_000, 1)
    expect(m.spareBytesPerSec(atMs, 400_000)).to.equal(0)
  })

  it('without a configured limit, the highest rate sustained over 10 s is the capacity: idle after a 1 MB/s burst of 20 s spares 1 MB/s', () => {
    const m = new SpareUploadMeter()
    const busy = feed(m, 0, 20, 1_000_000)
    expect(m.spareBytesPerSec(busy.atMs)).to.be.below(1000)
    const idle = feed(m, busy.atMs + 1000, 70, 0, busy.bytes)
    expect(m.capacityBytesPerSec()).to.be.closeTo(1_000_000, 1)
    expect(m.spareBytesPerSec(idle.atMs)).to.be.closeTo(1_000_000, 1)
  })

  it('a one-second burst shorter than the capacity window shows no capacity', () => {
    const m = new SpareUploadMeter()
    m.sample(0, 0)
    m.sample(1000, 50_000_000)
    const { atMs } = feed(m, 2000, 5, 0, 50_000_000)
    expect(m.capacityBytesPerSec()).to.equal(0)
    expect(m.spareBytesPerSec(atMs)).to.equal(0)
  })

  it('keeps at most maxSamples samples and ignores a counter that goes back', () => {
    const m = new SpareUploadMeter({ maxSamples: 5, recentWindowMs: 100_000 })
    const { atMs, bytes } = feed(m, 0, 100, 1000)
    m.sample(atMs + 1000, bytes - 5)
    expect(m.recentBytesPerSec(atMs + 1000)).to.be.closeTo(1000, 1e-6)
    expect(() => new SpareUploadMeter({ maxSamples: 1 })).to.throw(SpareUploadOptionError)
  })
})

describe('core/tier/region-leaves', () => {
  it('scales a supernode\'s attached leaves of its region by the region\'s supernodes over the attachments per leaf', () => {
    expect(estimateRegionLeaves({ attachedInRegion: 6, regionSupernodes: 10, attachmentsPerLeaf: 3, selfIsLeaf: false })).to.equal(20)
    // Fewer supernodes than attachments: every leaf of the region is attached here.
    expect(estimateRegionLeaves({ attachedInRegion: 6, regionSupernodes: 2, attachmentsPerLeaf: 3, selfIsLeaf: false })).to.equal(6)
    expect(estimateRegionLeaves({ attachedInRegion: 0, regionSupernodes: 10, attachmentsPerLeaf: 3, selfIsLeaf: false })).to.equal(1)
  })

  it('a leaf scales the mean leaf count of its region\'s attached supernodes, and counts itself when it has none', () => {
    expect(estimateRegionLeaves({ attachedInRegion: 0, supernodeLeafCounts: [120, 60], regionSupernodes: 6, attachmentsPerLeaf: 3, selfIsLeaf: true })).to.equal(180)
    expect(estimateRegionLeaves({ attachedInRegion: 0, supernodeLeafCounts: [], regionSupernodes: 4, attachmentsPerLeaf: 3, selfIsLeaf: true })).to.equal(1)
  })
})
