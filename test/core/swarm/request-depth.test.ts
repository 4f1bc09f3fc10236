import { expect } from 'chai'
import { requestDepth } from '../../../src/core/swarm/request-depth.js'

const MiB = 1024 * 1024

describe('core/swarm/request-depth', () => {
  it('keeps 8 MiB per source and 64 MiB in all, 2 to 64 requests per source', () => {
    expect(requestDepth(MiB)).to.deep.equal({ perSource: 8, total: 64 })
    expect(requestDepth(16 * 1024)).to.deep.equal({ perSource: 64, total: 4096 })
    expect(requestDepth(16 * MiB)).to.deep.equal({ perSource: 2, total: 4 })
  })

  it('takes a given depth or byte budget per source, and never totals less than one source', () => {
    expect(requestDepth(MiB, { maxRequestsPerSource: 100 })).to.deep.equal({ perSource: 100, total: 100 })
    expect(requestDepth(MiB, { inFlightBytesPerSource: 2 * MiB })).to.deep.equal({ perSource: 2, total: 64 })
  })
})
