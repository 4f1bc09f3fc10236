import type { Command } from 'commander'
import { writeNewPublisherKey } from '../../client/publisher-key-file.js'
import { rawPublicKey } from '../../core/content/manifest.js'

/** `swarmcdn keygen`: create a publisher signing key. */
export function registerKeygen (program: Command): void {
  program.command('keygen')
    .description('Create a new Ed25519 publisher key (PKCS#8 PEM, file mode 0600).')
    .requiredOption('--out <file>', 'where to write the key')
    .option('--force', 'overwrite an existing file', false)
    .option('--json', 'print one JSON object instead of text', false)
    .addHelpText('after', '\nExample:\n  $ swarmcdn keygen --out publisher.key\n  wrote publisher.key (public key 3b6a27bc...)\n')
    .action(async (opts: { out: string, force: boolean, json: boolean }) => {
      const key = await writeNewPublisherKey(opts.out, { overwrite: opts.force })
      const pub = Buffer.from(rawPublicKey(key)).toString('hex')
      if (opts.json) {
        process.stdout.write(JSON.stringify({ event: 'key-written', path: opts.out, publicKey: pub }) + '\n')
      } else {
        process.stdout.write(`wrote ${opts.out} (public key ${pub})\n`)
      }
    })
}
