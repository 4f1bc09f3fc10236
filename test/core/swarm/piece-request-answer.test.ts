import { expect } from 'chai'
import { answerPieceRequest, type PieceRequest } from '../../../src/core/swarm/piece-request-answer.js'

describe('core/swarm/piece-request-answer', () => {
  /** A request with every check passing, then `over` changed; records which side-effecting checks were asked. */
  function ask (over: Partial<PieceRequest>, spreadSays = true, quotaSays = true): { answer: string, asked: string[] } {
    const asked: string[] = []
    const answer = answerPieceRequest({
      choked: false,
      held: true,
      queueFull: false,
      admitPiece: () => { asked.push('spread'); return spreadSays },
      takeQuota: () => { asked.push('quota'); return quotaSays },
      ...over
    })
    return { answer, asked }
  }

  it('serves when every rule passes, asking the spread rule and then the quota', () => {
    expect(ask({})).to.deep.equal({ answer: 'serve', asked: ['spread', 'quota'] })
  })

  it('answers by the first rule that fails, in order: choked, not held, queue full, spread, quota', () => {
    expect(ask({ choked: true, held: false, queueFull: true }, false, false)).to.deep.equal({ answer: 'choked', asked: [] })
    expect(ask({ held: false, queueFull: true }, false, false)).to.deep.equal({ answer: 'not-held', asked: [] })
    expect(ask({ queueFull: true }, false, false)).to.deep.equal({ answer: 'queue-full', asked: [] })
    // A declined piece takes no queue place: the quota is not asked.
    expect(ask({}, false, false)).to.deep.equal({ answer: 'spread-declined', asked: ['spread'] })
    expect(ask({}, true, false)).to.deep.equal({ answer: 'over-quota', asked: ['spread', 'quota'] })
  })

  it('without a queue, spread rule or quota (the simulator\'s uploader) serves what it holds to the unchoked', () => {
    expect(answerPieceRequest({ choked: false, held: true })).to.equal('serve')
    expect(answerPieceRequest({ choked: true, held: true })).to.equal('choked')
  })
})
