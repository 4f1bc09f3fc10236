/**
 * `--identity FILE` of `seed` and `peer`: keep the libp2p private key in
 * FILE (created 0600 on first run) so the peer id survives restarts.
 * Its own module so each command gains it with one line.
 */
import type { Command } from 'commander'
import type { PrivateKey } from '@libp2p/interface'
import { loadOrCreateIdentity } from '../client/identity-file.js'

/** The parsed option. */
export interface IdentityCliOptions {
  identity?: string
}

/** Adds `--identity FILE` to `cmd`. */
export function addIdentityOption (cmd: Command): Command {
  return cmd.option('--identity <file>', 'keep this node\'s libp2p key in FILE (created mode 0600 on first run) so its peer id survives restarts (default: a new peer id each start)')
}

/** The key of `--identity`, or undefined without it. Throws IdentityFileError. */
export async function identityOf (opts: IdentityCliOptions): Promise<PrivateKey | undefined> {
  return opts.identity == null ? undefined : (await loadOrCreateIdentity(opts.identity)).privateKey
}
