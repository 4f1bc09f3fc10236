import { expect } from 'chai'
import { AsUploadLimits } from '../../../src/core/swarm/as-upload-limits.js'

describe('core/swarm: per-AS upload caps', () => {
  it('paces bytes to a capped AS at its rate, shared by its requesters, and leaves other ASes alone', () => {
    const caps = new AsUploadLimits({ 64602: 256 * 1024 })
    // The burst (64 KiB) goes at once; then each 64 KiB piece waits a quarter second.
    expect(caps.take(0, 64602, 64 * 1024)).to.equal(0)
    expect(caps.take(0, 64602, 64 * 1024)).to.equal(250)
    expect(caps.take(0, 64602, 64 * 1024)).to.equal(500)
    expect(caps.take(0, 64603, 10 * 1024 * 1024)).to.equal(0)
    expect(caps.take(0, 0, 10 * 1024 * 1024)).to.equal(0)
    // Paid back over time.
    expect(caps.take(1000, 64602, 64 * 1024)).to.equal(0)
  })

  it('refuses bad AS numbers and rates', () => {
    expect(() => new AsUploadLimits({ 0: 1000 })).to.throw(RangeError)
    expect(() => new AsUploadLimits(new Map([[64600, 0]]))).to.throw(RangeError)
  })
})
