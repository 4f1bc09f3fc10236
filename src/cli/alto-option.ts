/**
 * `--alto-network-map FILE --alto-cost-map FILE` of `seed`, `peer`, `stream` and
 * `get`: an ISP's ALTO maps (RFC 7285) as a ranking input. Its own module
 * so each command gains it with one line.
 */
import { type Command, InvalidArgumentError } from 'commander'
import { readAltoFiles } from '../client/alto-files.js'
import type { AltoCosts } from '../core/proximity/alto-map.js'

/** The parsed options. */
export interface AltoCliOptions {
  altoNetworkMap?: string
  altoCostMap?: string
}

/** Adds the two options to `cmd`. */
export function addAltoOptions (cmd: Command): Command {
  return cmd
    .option('--alto-network-map <file>', 'an ALTO network map (RFC 7285 JSON): with --alto-cost-map, peers of equal AS/prefix nearness are ranked by the ISP\'s cost, lowest first')
    .option('--alto-cost-map <file>', 'the ALTO cost map computed for that network map (numerical costs)')
}

/** The maps of the options, or undefined without them; both or neither. Throws AltoMapError. */
export async function altoOf (opts: AltoCliOptions): Promise<AltoCosts | undefined> {
  if (opts.altoNetworkMap == null && opts.altoCostMap == null) return undefined
  if (opts.altoNetworkMap == null || opts.altoCostMap == null) throw new InvalidArgumentError('--alto-network-map and --alto-cost-map go together')
  return await readAltoFiles(opts.altoNetworkMap, opts.altoCostMap)
}
