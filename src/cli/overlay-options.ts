/**
 * Options shared by the commands that join the overlay (`peer`, `seed`,
 * `get`, `stream`): bootstrap sources, prefix table, proximity, public IP;
 * and the first provider lookup of `get`/`stream` without `--peer`.
 */
import { type Command, Option } from 'commander'
import { BOOTSTRAP_ENV, resolveBootstrap } from '../client/bootstrap-config.js'
import { parseIpAddress } from '../core/proximity/ip-address.js'
import type { OverlayService } from '../net/overlay-service.js'
import type { ContentId } from '../core/content/content-id.js'
import type { ProviderFinder, ProviderInfo } from '../client/swarm-peer.js'
import { collectPrefixTable, PREFIX_TABLE_NAMES_HELP } from './prefix-table-arg.js'

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

/** Parsed shared overlay options. */
export interface OverlayCliOptions {
  bootstrap?: string[]
  config?: string
  prefixTable?: string[]
  proximity: boolean
  publicIp?: string
}

/** Adds --bootstrap, --config, --prefix-table, --no-proximity and --public-ip to `cmd`. */
export function addOverlayOptions (cmd: Command): Command {
  return cmd
    .addOption(new Option('--bootstrap <multiaddr>', `overlay peer to join through, ending in /p2p/PEER_ID (repeatable; also ${BOOTSTRAP_ENV}, comma/space separated)`).argParser(collect))
    .option('--config <file>', 'JSON config file: { "bootstrap": ["/ip4/.../tcp/.../p2p/..."] }')
    .addOption(new Option('--prefix-table <file>', `prefix table for AS lookups: ip-location-db CSV or CAIDA pfx2as, ${PREFIX_TABLE_NAMES_HELP} (repeatable; default: the @ip-location-db/asn tables)`).argParser(collectPrefixTable))
    .option('--no-proximity', 'do not rank peers by AS and shared prefix')
    .addOption(new Option('--public-ip <ip>', 'this peer\'s public IP (default: learned from identify)').argParser((v: string) => { parseIpAddress(v); return v }))
}

/** The bootstrap list from flags, environment and config file. */
export async function bootstrapOf (opts: OverlayCliOptions): Promise<string[]> {
  return await resolveBootstrap({ flags: opts.bootstrap, env: process.env[BOOTSTRAP_ENV], configFile: opts.config })
}

/** Writes overlay events to stdout: one JSON object per line, or short text lines. */
export function printOverlayEvents (overlay: OverlayService, json: boolean): void {
  const names = ['role:changed', 'supernode:attached', 'supernode:detached', 'provider:announced', 'provider:withdrawn', 'providers:found', 'peer:penalized', 'overlay:error', 'reachability:changed', 'relay:reserved', 'relay:failed'] as const
  for (const name of names) {
    overlay.addEventListener(name, (e: CustomEvent) => {
      const detail = e.detail as Record<string, unknown>
      if (json) process.stdout.write(JSON.stringify({ event: name, ...detail }) + '\n')
      else process.stdout.write(`${name} ${Object.entries(detail).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`).join(' ')}\n`)
    })
  }
}

/** Resolves when the process gets SIGINT or SIGTERM. */
export async function untilSignal (): Promise<string> {
  return await new Promise(resolve => {
    process.once('SIGINT', () => { resolve('SIGINT') })
    process.once('SIGTERM', () => { resolve('SIGTERM') })
  })
}

/** Default time `get`/`stream` give the overlay to find a first provider, in seconds. */
export const DEFAULT_FIND_TIMEOUT_SEC = 20

/** Neither a source nor a way into the overlay was given. */
export class NoSourceError extends Error {
  override name = 'NoSourceError'
  readonly code = 'ERR_NO_SOURCE'
  constructor () {
    super(`no source: give --peer MULTIADDR, or --bootstrap MULTIADDR (or ${BOOTSTRAP_ENV}, or --config FILE) to find peers through the overlay, or --web-seed URL, or a link (swarmcdn link) in place of the content id`)
  }
}

/** The overlay found nobody holding the item in time. */
export class NoProviderError extends Error {
  override name = 'NoProviderError'
  readonly code = 'ERR_NO_PROVIDER'
}

/** The first providers of `contentId` through `finder`, or NoProviderError after `timeoutSec` (or an empty answer). */
export async function findFirstProviders (finder: ProviderFinder, contentId: ContentId, timeoutSec: number, signal: AbortSignal): Promise<ProviderInfo[]> {
  let found: ProviderInfo[] = []
  try {
    found = await finder(contentId, { signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutSec * 1000)]) })
  } catch (err) {
    if (signal.aborted) throw err
  }
  if (found.length === 0) throw new NoProviderError(`no provider of ${contentId} found through the overlay within ${timeoutSec} s`)
  return found
}

/** A finder that answers `first` once, then asks `next` (the overlay) for fresh providers. */
export function primedFinder (first: ProviderInfo[], next: ProviderFinder): ProviderFinder {
  let pending: ProviderInfo[] | undefined = first
  return async (contentId, options) => {
    if (pending != null) { const p = pending; pending = undefined; return p }
    return await next(contentId, options)
  }
}
