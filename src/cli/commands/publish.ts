import type { Command } from 'commander'
import { readPublisherKey } from '../../client/publisher-key-file.js'
import { ContentStore } from '../../store/content-store.js'
import { publishFile } from '../../../seeders/publish-file.js'
import { DEFAULT_PIECE_SIZE_BYTES } from '../../core/content/pieces.js'
import { parseByteSize } from '../parse-options.js'
import { addFleetOption, fleetOf, type FleetCliOptions } from '../fleet-option.js'
import { rawPublicKey } from '../../core/content/publisher-signature.js'
import { copyToFleet } from '../../../seeders/fleet-publish.js'
import { printCopyResults } from './fleet.js'

interface PublishOptions extends FleetCliOptions { key: string, store: string, pieceSize: number, name?: string, mediaType?: string, json: boolean }

/** `swarmcdn publish`: sign a file and add it to a seeder's store. */
export function registerPublish (program: Command): void {
  const cmd = program.command('publish')
    .description('Hash a file into pieces, sign its manifest and add it to a seeder\'s content store; prints its content id.')
    .argument('<file>', 'the file to publish')
    .requiredOption('--key <file>', 'publisher key (from swarmcdn keygen)')
    .requiredOption('--store <dir>', 'the seeder\'s content store directory (created if missing)')
    .option('--piece-size <bytes>', 'piece size, a power of two from 16KiB to 16MiB', parseByteSize, DEFAULT_PIECE_SIZE_BYTES)
    .option('--name <name>', 'name in the manifest (default: the file name)')
    .option('--media-type <type>', 'media type (default: guessed from the extension)')
    .option('--json', 'print one JSON object instead of text', false)
  addFleetOption(cmd, 'also copy the item to its owners in the fleet (each fetches it from this process and answers once it holds it)')
    .addHelpText('after', '\nExample:\n  $ swarmcdn publish talk.mp4 --key publisher.key --store ./store\n  bafkreib...\n')
    .action(async (file: string, opts: PublishOptions) => {
      const key = await readPublisherKey(opts.key)
      // A fleet of another publisher would refuse every item: say so before hashing.
      const fleet = await fleetOf(opts, rawPublicKey(key))
      const store = await ContentStore.open(opts.store)
      try {
        const m = await publishFile(store, file, key, { pieceSizeBytes: opts.pieceSize, name: opts.name, mediaType: opts.mediaType })
        if (opts.json) {
          process.stdout.write(JSON.stringify({ event: 'published', contentId: m.contentId, name: m.name, mediaType: m.mediaType, lengthBytes: m.lengthBytes, pieceSizeBytes: m.pieceSizeBytes, pieces: m.pieceCount }) + '\n')
        } else {
          process.stderr.write(`published ${m.name} (${m.mediaType}, ${m.lengthBytes} bytes, ${m.pieceCount} pieces)\n`)
          process.stdout.write(`${m.contentId}\n`)
        }
        if (fleet != null) printCopyResults(await copyToFleet(store, [m.contentId], fleet), opts.json)
      } finally {
        await store.close()
      }
    })
}
