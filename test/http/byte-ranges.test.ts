import { expect } from 'chai'
import { contentRangeHeader, ifNoneMatchMatches, ifRangeAllowsPartial, rangeLengthBytes, resolveByteRange, wholeRange } from '../../src/http/byte-ranges.js'

const whole = (n: number): ReturnType<typeof resolveByteRange> => ({ kind: 'whole', start: 0, endInclusive: n - 1 })
const part = (start: number, endInclusive: number): ReturnType<typeof resolveByteRange> => ({ kind: 'partial', start, endInclusive })
const none = { kind: 'unsatisfiable' } as const

describe('http/byte-ranges', () => {
  describe('resolveByteRange', () => {
    it('sends the whole item when there is no Range header', () => {
      expect(resolveByteRange(undefined, 100)).to.deep.equal(whole(100))
    })

    it('answers a closed range with exactly those bytes', () => {
      expect(resolveByteRange('bytes=0-0', 100)).to.deep.equal(part(0, 0))
      expect(resolveByteRange('bytes=10-19', 100)).to.deep.equal(part(10, 19))
      expect(resolveByteRange('bytes=99-99', 100)).to.deep.equal(part(99, 99))
    })

    it('answers an open-ended range up to the last byte', () => {
      expect(resolveByteRange('bytes=0-', 100)).to.deep.equal(part(0, 99))
      expect(resolveByteRange('bytes=42-', 100)).to.deep.equal(part(42, 99))
      expect(resolveByteRange('bytes=99-', 100)).to.deep.equal(part(99, 99))
    })

    it('clamps a last-byte-pos past the end to N-1', () => {
      expect(resolveByteRange('bytes=90-1000', 100)).to.deep.equal(part(90, 99))
      expect(resolveByteRange('bytes=0-100', 100)).to.deep.equal(part(0, 99))
    })

    it('answers a suffix range with the last n bytes', () => {
      expect(resolveByteRange('bytes=-1', 100)).to.deep.equal(part(99, 99))
      expect(resolveByteRange('bytes=-10', 100)).to.deep.equal(part(90, 99))
      expect(resolveByteRange('bytes=-100', 100)).to.deep.equal(part(0, 99))
    })

    it('answers a suffix longer than the item with the whole item as a 206', () => {
      expect(resolveByteRange('bytes=-101', 100)).to.deep.equal(part(0, 99))
      expect(resolveByteRange('bytes=-5', 1)).to.deep.equal(part(0, 0))
    })

    it('finds a first-byte-pos at or past the end unsatisfiable', () => {
      expect(resolveByteRange('bytes=100-', 100)).to.deep.equal(none)
      expect(resolveByteRange('bytes=100-200', 100)).to.deep.equal(none)
      expect(resolveByteRange('bytes=1-1', 1)).to.deep.equal(none)
    })

    it('finds a zero-length suffix unsatisfiable', () => {
      expect(resolveByteRange('bytes=-0', 100)).to.deep.equal(none)
      expect(resolveByteRange('bytes=-000', 100)).to.deep.equal(none)
      expect(resolveByteRange('bytes=-0', 0)).to.deep.equal(none)
    })

    it('ignores an inverted range (bytes=5-2) instead of refusing it', () => {
      expect(resolveByteRange('bytes=5-2', 100)).to.deep.equal(whole(100))
      expect(resolveByteRange('bytes=500-2', 100)).to.deep.equal(whole(100))
    })

    it('ignores other units and malformed values', () => {
      for (const h of ['items=0-1', 'bytes', 'bytes=', 'bytes=-', 'bytes=abc', 'bytes=1', 'bytes=1x-2', 'bytes=0x10-',
        'bytes=-1-2', 'bytes=1-2-3', 'bytes=+1-2', 'bytes=1.5-2', 'bytes=-1.5', '=0-1', 'bytes=0-1;x', 'bytes=,', 'bytes=\u0661-\u0662']) {
        expect(resolveByteRange(h, 100), h).to.deep.equal(whole(100))
      }
    })

    it('compares the unit case-insensitively', () => {
      expect(resolveByteRange('Bytes=1-2', 100)).to.deep.equal(part(1, 2))
      expect(resolveByteRange('BYTES=-3', 100)).to.deep.equal(part(97, 99))
    })

    it('accepts whitespace around the value and list elements but not inside a range', () => {
      expect(resolveByteRange('  bytes=1-2  ', 100)).to.deep.equal(part(1, 2))
      expect(resolveByteRange('bytes= 1-2\t', 100)).to.deep.equal(part(1, 2))
      expect(resolveByteRange('bytes = 1-2', 100)).to.deep.equal(whole(100))
      expect(resolveByteRange('bytes=1 -2', 100)).to.deep.equal(whole(100))
      expect(resolveByteRange('bytes=1- 2', 100)).to.deep.equal(whole(100))
      expect(resolveByteRange('bytes=- 2', 100)).to.deep.equal(whole(100))
    })

    it('drops empty list elements so one range with stray commas is still one range', () => {
      expect(resolveByteRange('bytes=1-2,', 100)).to.deep.equal(part(1, 2))
      expect(resolveByteRange('bytes=, ,1-2', 100)).to.deep.equal(part(1, 2))
    })

    it('sends the whole item for several ranges (no multipart/byteranges)', () => {
      expect(resolveByteRange('bytes=0-1,5-6', 100)).to.deep.equal(whole(100))
      expect(resolveByteRange('bytes=0-1, -5', 100)).to.deep.equal(whole(100))
      expect(resolveByteRange('bytes=500-600,700-800', 100)).to.deep.equal(whole(100))
    })

    it('handles numbers far beyond 2^53 exactly', () => {
      const huge = '1' + '0'.repeat(40)
      expect(resolveByteRange(`bytes=${huge}-`, 100)).to.deep.equal(none)
      expect(resolveByteRange(`bytes=5-${huge}`, 100)).to.deep.equal(part(5, 99))
      expect(resolveByteRange(`bytes=-${huge}`, 100)).to.deep.equal(part(0, 99))
      // 2^53+1 and 2^53 round to the same double; exact parsing still sees last < first
      expect(resolveByteRange('bytes=9007199254740993-9007199254740992', 100)).to.deep.equal(whole(100))
      expect(resolveByteRange('bytes=0000000000000000000000000007-8', 100)).to.deep.equal(part(7, 8))
    })

    it('handles the largest safe length', () => {
      const n = Number.MAX_SAFE_INTEGER
      expect(resolveByteRange('bytes=-1', n)).to.deep.equal(part(n - 1, n - 1))
      expect(resolveByteRange(`bytes=${n - 1}-`, n)).to.deep.equal(part(n - 1, n - 1))
      expect(resolveByteRange(`bytes=${n}-`, n)).to.deep.equal(none)
    })

    it('serves a one-byte item', () => {
      expect(resolveByteRange('bytes=0-0', 1)).to.deep.equal(part(0, 0))
      expect(resolveByteRange('bytes=0-', 1)).to.deep.equal(part(0, 0))
      expect(resolveByteRange('bytes=-1', 1)).to.deep.equal(part(0, 0))
      expect(resolveByteRange('bytes=0-5', 1)).to.deep.equal(part(0, 0))
      expect(resolveByteRange('bytes=1-', 1)).to.deep.equal(none)
    })

    it('refuses every int-range on a zero-length item and sends it whole for a suffix', () => {
      expect(resolveByteRange(undefined, 0)).to.deep.equal(whole(0))
      expect(resolveByteRange('bytes=0-', 0)).to.deep.equal(none)
      expect(resolveByteRange('bytes=0-0', 0)).to.deep.equal(none)
      expect(resolveByteRange('bytes=-5', 0)).to.deep.equal(whole(0))
      expect(rangeLengthBytes(resolveByteRange('bytes=-5', 0))).to.equal(0)
    })

    it('ignores an absurdly long header', () => {
      expect(resolveByteRange('bytes=' + '0'.repeat(5000) + '1-2', 100)).to.deep.equal(whole(100))
    })

    it('rejects a length that is not a safe non-negative integer', () => {
      for (const n of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1, Infinity]) {
        expect(() => resolveByteRange('bytes=0-1', n), String(n)).to.throw(RangeError)
      }
    })
  })

  describe('contentRangeHeader and rangeLengthBytes', () => {
    it('writes bytes a-b/N for a part, bytes */N for unsatisfiable and nothing for whole', () => {
      expect(contentRangeHeader(part(10, 19), 100)).to.equal('bytes 10-19/100')
      expect(contentRangeHeader(none, 100)).to.equal('bytes */100')
      expect(contentRangeHeader(none, 0)).to.equal('bytes */0')
      expect(contentRangeHeader(whole(100), 100)).to.equal(undefined)
    })

    it('counts the body bytes of each kind', () => {
      expect(rangeLengthBytes(part(10, 19))).to.equal(10)
      expect(rangeLengthBytes(wholeRange(100))).to.equal(100)
      expect(rangeLengthBytes(wholeRange(0))).to.equal(0)
      expect(rangeLengthBytes(none)).to.equal(0)
    })
  })

  describe('conditional headers', () => {
    const etag = '"bafkreiabc"'

    it('honours Range only when If-Range strongly matches the ETag', () => {
      expect(ifRangeAllowsPartial(undefined, etag)).to.equal(true)
      expect(ifRangeAllowsPartial('"bafkreiabc"', etag)).to.equal(true)
      expect(ifRangeAllowsPartial(' "bafkreiabc" ', etag)).to.equal(true)
      expect(ifRangeAllowsPartial('"other"', etag)).to.equal(false)
      expect(ifRangeAllowsPartial('W/"bafkreiabc"', etag)).to.equal(false)
      expect(ifRangeAllowsPartial('Wed, 21 Oct 2015 07:28:00 GMT', etag)).to.equal(false)
      expect(ifRangeAllowsPartial('"bafkreiabc"', undefined)).to.equal(false)
    })

    it('matches If-None-Match weakly, in a list, and with *', () => {
      expect(ifNoneMatchMatches('"bafkreiabc"', etag)).to.equal(true)
      expect(ifNoneMatchMatches('"x", W/"bafkreiabc"', etag)).to.equal(true)
      expect(ifNoneMatchMatches('*', etag)).to.equal(true)
      expect(ifNoneMatchMatches('"x"', etag)).to.equal(false)
      expect(ifNoneMatchMatches(undefined, etag)).to.equal(false)
      expect(ifNoneMatchMatches('*', undefined)).to.equal(false)
    })
  })
})
