import { expect } from 'chai'
import { formatShareLink, looksLikeShareLink, MAX_LINK_SOURCES, parseShareLink, ShareLinkError, webSeedItemUrl, type ShareLink } from '../../src/client/share-link.js'

const ID = 'bafkreidd5ksovuvrzn6op7kc6wwyxabmozv4zes4zyobbi6xld7tooh3nu'
const OTHER = 'bafkreifualh2ao7dlxyjkhhxpy4kvv4jxjc2pmc6nzvkkdjuv7ax6jmniq'
const PEER = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWKfW6xgdft9iHsiTv1jgNdbYses3LK7DWsjhS9Xs1kTCY'
const PEER6 = '/ip6/::1/tcp/4002/p2p/12D3KooWKfW6xgdft9iHsiTv1jgNdbYses3LK7DWsjhS9Xs1kTCY'

function errorOf (fn: () => unknown): ShareLinkError {
  try { fn() } catch (err) { expect(err).to.be.instanceOf(ShareLinkError); return err as ShareLinkError }
  throw new Error('expected a ShareLinkError')
}

describe('client/share-link', () => {
  it('formats xt first, then peers, bootstrap members and web seeds, and parses back to the same link', () => {
    const link: ShareLink = { contentId: ID, peers: [PEER, PEER6], bootstrap: [PEER], webSeeds: ['http://203.0.113.7:8080'] }
    const text = formatShareLink(link)
    expect(text).to.equal(`swarmcdn:?xt=urn:swarmcdn:${ID}&peer=${PEER}&peer=${PEER6}&bootstrap=${PEER}&ws=http://203.0.113.7:8080/c/${ID}`)
    expect(parseShareLink(text)).to.deep.equal({ ...link, webSeeds: [`http://203.0.113.7:8080/c/${ID}`] })
    expect(looksLikeShareLink(text)).to.equal(true)
    expect(looksLikeShareLink(ID)).to.equal(false)
  })

  it('percent-encodes what would break the query and decodes it back', () => {
    const ws = 'http://example.org/a&b=c/d%20e'
    const text = formatShareLink({ contentId: ID, peers: [], bootstrap: [], webSeeds: [ws] })
    expect(text).to.not.include('a&b')
    expect(parseShareLink(text).webSeeds).to.deep.equal([`http://example.org/a&b=c/d%20e/c/${ID}`])
  })

  it('ignores x. extensions and drops repeated sources', () => {
    const l = parseShareLink(`swarmcdn:?xt=urn:swarmcdn:${ID}&x.note=hi&peer=${PEER}&peer=${PEER}`)
    expect(l.peers).to.deep.equal([PEER])
  })

  it('reads a web seed given as a base, an item URL or an item URL with the name', () => {
    expect(webSeedItemUrl('http://h:8080', ID)).to.equal(`http://h:8080/c/${ID}`)
    expect(webSeedItemUrl('http://h:8080/cdn/', ID)).to.equal(`http://h:8080/cdn/c/${ID}`)
    expect(webSeedItemUrl(`https://h/c/${ID}`, ID)).to.equal(`https://h/c/${ID}`)
    expect(webSeedItemUrl(`https://h/c/${ID}/talk.mp4`, ID)).to.equal(`https://h/c/${ID}`)
    expect(errorOf(() => webSeedItemUrl(`https://h/c/${OTHER}`, ID)).message).to.include(`names item ${OTHER}`)
  })

  const bad: Array<[string, string, RegExp]> = [
    ['another scheme', `magnet:?xt=urn:swarmcdn:${ID}&peer=${PEER}`, /not a swarmcdn link/],
    ['no xt', `swarmcdn:?peer=${PEER}`, /no xt=urn:swarmcdn:/],
    ['two xt', `swarmcdn:?xt=urn:swarmcdn:${ID}&xt=urn:swarmcdn:${ID}&peer=${PEER}`, /more than one xt/],
    ['a foreign urn', `swarmcdn:?xt=urn:btih:abc&peer=${PEER}`, /xt must be urn:swarmcdn:/],
    ['a bad content id', `swarmcdn:?xt=urn:swarmcdn:bafkreinope&peer=${PEER}`, /content id "bafkreinope" is not valid/],
    ['no source', `swarmcdn:?xt=urn:swarmcdn:${ID}`, /names no source/],
    ['an unknown key', `swarmcdn:?xt=urn:swarmcdn:${ID}&tr=http://t`, /unknown link parameter "tr"/],
    ['a pair without =', `swarmcdn:?xt=urn:swarmcdn:${ID}&peer`, /expected key=value/],
    ['an empty value', `swarmcdn:?xt=urn:swarmcdn:${ID}&peer=`, /peer is empty/],
    ['a bad percent-encoding', `swarmcdn:?xt=urn:swarmcdn:${ID}&ws=http://h/%E0%A4%A`, /bad percent-encoding/],
    ['a peer without its peer id', `swarmcdn:?xt=urn:swarmcdn:${ID}&peer=/ip4/1.2.3.4/tcp/1`, /does not name its peer id/],
    ['a peer that is no multiaddr', `swarmcdn:?xt=urn:swarmcdn:${ID}&bootstrap=nope`, /bootstrap "nope" is not a multiaddr/],
    ['a web seed that is not http', `swarmcdn:?xt=urn:swarmcdn:${ID}&ws=ftp://h/`, /must be http or https/],
    ['a web seed of another item', `swarmcdn:?xt=urn:swarmcdn:${ID}&ws=http://h/c/${OTHER}`, /names item/],
    ['too many sources', `swarmcdn:?xt=urn:swarmcdn:${ID}` + `&ws=http://h`.repeat(MAX_LINK_SOURCES + 1), /over 32/],
    ['a link too long', `swarmcdn:?xt=urn:swarmcdn:${ID}&x.pad=${'a'.repeat(9000)}`, /over 8192/]
  ]
  for (const [what, text, message] of bad) {
    it(`rejects ${what} with one line`, () => {
      const err = errorOf(() => parseShareLink(text))
      expect(err.message).to.match(message)
      expect(err.message).to.not.include('\n')
      expect(err.message.length).to.be.below(300)
      expect(err.code).to.equal('ERR_BAD_SHARE_LINK')
    })
  }
})
