import type { Command } from 'commander'
import { ContentStore } from '../../store/content-store.js'
import { startWebSeed, WEBSEED_DEFAULTS } from '../../../seeders/web-seed.js'
import { parseHostPort, parseNonNegativeInt } from '../parse-options.js'

interface WebSeedOptions { store: string, listen: { host: string, port: number }, maxConnections: number }

/** `swarmcdn web-seed`: serve a content store over plain HTTP until interrupted. */
export function registerWebSeed (program: Command): void {
  program.command('web-seed')
    .description('Serve a content store over plain HTTP with byte ranges: /c/ID, /c/ID/NAME and /c/ID/manifest.')
    .requiredOption('--store <dir>', 'the seeder\'s content store directory')
    .option('--listen <host:port>', 'address to listen on (0.0.0.0:8080 to serve everyone; port 0 picks one)', parseHostPort, { host: WEBSEED_DEFAULTS.host, port: 8080 })
    .option('--max-connections <n>', 'open connections at once', parseNonNegativeInt, WEBSEED_DEFAULTS.maxConnections)
    .addHelpText('after', '\nExample:\n  $ swarmcdn web-seed --store ./store --listen 127.0.0.1:8080\n  $ curl -r 0-99 http://127.0.0.1:8080/c/bafkrei.../talk.mp4\n')
    .action(async (opts: WebSeedOptions) => {
      const store = await ContentStore.open(opts.store)
      const stop = new AbortController()
      const onSignal = (): void => { stop.abort() }
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
      try {
        const seed = await startWebSeed({ store, host: opts.listen.host, port: opts.listen.port, maxConnections: opts.maxConnections, signal: stop.signal })
        for (const s of store.skipped) process.stderr.write(`skipped ${s.entry}: ${s.reason}\n`)
        process.stderr.write(`serving ${store.list().length} items over HTTP (Ctrl-C stops)\n`)
        for (const id of store.list()) {
          const m = store.manifest(id)
          process.stderr.write(`  ${seed.url}/c/${id}/${encodeURIComponent(m?.name ?? '')}\n`)
        }
        process.stdout.write(`${seed.url}\n`)
        await new Promise<void>(resolve => { stop.signal.addEventListener('abort', () => { resolve() }, { once: true }) })
        await seed.close()
        process.stderr.write(`stopped; served ${seed.metrics.bytesServed()} bytes\n`)
      } finally {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
        await store.close()
      }
    })
}
