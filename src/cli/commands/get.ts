import type { Command } from 'commander'
import cliProgress from 'cli-progress'
import { downloadContent, type DownloadProgress } from '../../client/download-content.js'
import { parseContentId } from '../../core/content/content-id.js'
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidArgumentError } from 'commander'

interface GetOptions { peer: string[], output: string, json: boolean }

function parseMultiaddr (text: string, acc: string[]): string[] {
  try {
    multiaddr(text)
  } catch {
    throw new InvalidArgumentError(`not a multiaddr: ${text} (e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...)`)
  }
  return [...acc, text]
}

/** `swarmcdn get`: download an item, verified piece by piece, resumable. */
export function registerGet (program: Command): void {
  program.command('get')
    .description('Download an item by content id from seeders/peers; verifies every piece, resumes after an interruption.')
    .argument('<content-id>', 'the content id printed by swarmcdn publish')
    .option('--peer <multiaddr>', 'a source to download from (repeatable)', parseMultiaddr, [] as string[])
    .requiredOption('-o, --output <file>', 'where to write the item')
    .option('--json', 'print one JSON progress object per line', false)
    .addHelpText('after', '\nExample:\n  $ swarmcdn get bafkrei... --peer /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW... -o talk.mp4\n')
    .action(async (id: string, opts: GetOptions) => {
      const contentId = parseContentId(id)
      if (opts.peer.length === 0) throw new InvalidArgumentError('give at least one --peer MULTIADDR')
      const ac = new AbortController()
      const onSignal = (): void => { ac.abort(new Error('interrupted; run the same command again to resume')) }
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
      const tty = process.stderr.isTTY && !opts.json
      let bar: cliProgress.SingleBar | undefined
      let lastJsonMs = 0
      const started = Date.now()
      const onProgress = (p: DownloadProgress): void => {
        if (opts.json) {
          const now = Date.now()
          if (now - lastJsonMs < 250 && p.verifiedPieces < p.pieceCount) return
          lastJsonMs = now
          process.stdout.write(JSON.stringify({ event: 'progress', ...p, elapsedMs: now - started }) + '\n')
        } else if (bar != null) {
          bar.update(p.verifiedBytes)
        }
      }
      try {
        const result = await downloadContent(contentId, opts.output, opts.peer.map(address => ({ address })), {
          signal: ac.signal,
          onManifest: m => {
            if (opts.json) {
              process.stdout.write(JSON.stringify({ event: 'manifest', contentId: m.contentId, name: m.name, mediaType: m.mediaType, lengthBytes: m.lengthBytes, pieceCount: m.pieceCount }) + '\n')
            } else if (tty) {
              bar = new cliProgress.SingleBar({
                format: `${m.name} [{bar}] {percentage}% | {value_h}/{total_h} | {rate} | ETA {eta_formatted}`,
                formatValue: (v, _o, type) => (type === 'value' || type === 'total') ? mib(v) : String(v),
                hideCursor: true
              }, cliProgress.Presets.shades_classic)
              bar.start(m.lengthBytes, 0, { value_h: mib(0), total_h: mib(m.lengthBytes), rate: '' })
            }
          },
          onProgress: p => {
            if (bar != null) {
              const secs = (Date.now() - started) / 1000
              const rate = secs > 0 ? `${((p.verifiedBytes - p.resumedPieces * 0) / 1048576 / secs).toFixed(1)} MiB/s` : ''
              bar.update(p.verifiedBytes, { value_h: mib(p.verifiedBytes), total_h: mib(p.totalBytes), rate })
            }
            onProgress(p)
          },
          onSourceError: (addr, err) => {
            if (opts.json) process.stdout.write(JSON.stringify({ event: 'source-error', address: addr, error: err.message }) + '\n')
          }
        })
        bar?.stop()
        const secs = result.elapsedMs / 1000
        const mibps = result.manifest.lengthBytes / 1048576 / Math.max(secs, 0.001)
        if (opts.json) {
          process.stdout.write(JSON.stringify({ event: 'done', contentId, output: opts.output, lengthBytes: result.manifest.lengthBytes, fetchedPieces: result.fetchedPieces, resumedPieces: result.resumedPieces, elapsedMs: result.elapsedMs }) + '\n')
        } else {
          process.stderr.write(`saved ${opts.output} (${result.manifest.lengthBytes} bytes, ${result.manifest.pieceCount} pieces verified${result.resumedPieces > 0 ? `, ${result.resumedPieces} resumed` : ''}) in ${secs.toFixed(1)} s, ${mibps.toFixed(1)} MiB/s\n`)
        }
      } finally {
        bar?.stop()
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
      }
    })
}

function mib (bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`
}
