/**
 * `swarmcdn link`: prints a shareable link (src/client/share-link.ts) that
 * holds a content id and the ways to reach it, for `get`, `stream` and
 * `peer --get` to take in place of the id. Nothing is dialled: the link
 * says where to ask, and the content id makes any answer verifiable.
 */
import { type Command, Option } from 'commander'
import { resolveBootstrap } from '../../client/bootstrap-config.js'
import { formatShareLink, ShareLinkError } from '../../client/share-link.js'
import { addSourceOptions, ITEM_ARGUMENT_HELP, itemSources, type SourceCliOptions } from '../item-sources.js'

interface LinkOptions extends SourceCliOptions { bootstrap?: string[] }

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

/** Registers the `link` command. */
export function registerLink (program: Command): void {
  const cmd = program.command('link')
    .description('Print a link that holds a content id and where to get it (peers, overlay bootstrap members, web seeds); get, stream and peer --get take it in place of the id. Given a link, adds the sources to it.')
    .argument('<content-id>', ITEM_ARGUMENT_HELP)
  addSourceOptions(cmd, 'a peer that holds the item, ending in /p2p/PEER_ID (repeatable): downloaded from directly')
    .addOption(new Option('--bootstrap <multiaddr>', 'an overlay member to join through, ending in /p2p/PEER_ID (repeatable): finds the holders').argParser(collect))
    .addHelpText('after', `
Example:
  $ swarmcdn link bafkrei... --peer /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW... --web-seed http://203.0.113.7:8080
  swarmcdn:?xt=urn:swarmcdn:bafkrei...&peer=/ip4/203.0.113.7/tcp/4001/p2p/12D3KooW...&ws=http://203.0.113.7:8080/c/bafkrei...
  $ swarmcdn get 'swarmcdn:?xt=urn:swarmcdn:bafkrei...&peer=...' -o talk.mp4
`)
    .action(async (item: string, opts: LinkOptions) => {
      const sources = itemSources(item, opts)
      const bootstrap = await resolveBootstrap({ flags: opts.bootstrap })
      if (sources.peers.length + sources.webSeeds.length + sources.bootstrap.length + bootstrap.length === 0) throw new ShareLinkError('a link needs a way to reach the item: give --peer, --bootstrap or --web-seed')
      const link = formatShareLink({ contentId: sources.contentId, peers: sources.peers, bootstrap: [...new Set([...sources.bootstrap, ...bootstrap])], webSeeds: sources.webSeeds })
      process.stdout.write(link + '\n')
    })
}
