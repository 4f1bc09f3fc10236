import type { Command } from 'commander'
import { ContentStore } from '../../store/content-store.js'
import { parseContentId } from '../../core/content/content-id.js'

interface UnpublishOptions { store: string, json: boolean }

/** `swarmcdn unpublish`: remove an item from a content store; a seeder serving the store stops serving and withdraws it. */
export function registerUnpublish (program: Command): void {
  program.command('unpublish')
    .description('Remove an item from a content store. A seeder or peer running on the store notices within a second, stops serving it and withdraws it from the overlay; no restart.')
    .argument('<content-id>', 'the item to remove')
    .requiredOption('--store <dir>', 'the content store directory')
    .option('--json', 'print one JSON object instead of text', false)
    .addHelpText('after', '\nExample:\n  $ swarmcdn unpublish bafkreib... --store ./store\n  removed bafkreib... from ./store\n')
    .action(async (id: string, opts: UnpublishOptions) => {
      const contentId = parseContentId(id)
      const store = await ContentStore.open(opts.store, { create: false })
      try {
        await store.remove(contentId)
      } finally {
        await store.close()
      }
      if (opts.json) process.stdout.write(JSON.stringify({ event: 'unpublished', contentId, store: opts.store }) + '\n')
      else process.stdout.write(`removed ${contentId} from ${opts.store}\n`)
    })
}
