// Bundles the compiled CLI (dist/src/cli/main.js, from tsc) into
// dist/cli/: one file for main plus one chunk per dynamically imported
// command, libp2p and the other dependencies inlined.
//
// Why: Node resolves, reads and compiles each of the ~500 modules of the
// libp2p graph separately, and that alone took ~210 ms of a `get` that
// needs ~90 ms for its network work; the same graph as one bundle loads
// in ~70 ms (docs/BENCHMARKS.md "Command start and exit"). Types and
// checks stay tsc's job: this only concatenates tsc's output.
//
// bin/swarmcdn.js runs the bundle when it is at least as new as tsc's
// output, else tsc's output, so a `npx tsc` alone never runs stale code.
import { rmSync } from 'node:fs'
import { build } from 'esbuild'

// Chunk names carry a content hash: clear out the previous build's.
rmSync('dist/cli', { recursive: true, force: true })

await build({
  entryPoints: { main: 'dist/src/cli/main.js' },
  outdir: 'dist/cli',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  // CommonJS dependencies (commander, cli-progress, prom-client, ...) call
  // require() for Node built-ins, which an ES module has not got.
  banner: { js: "import { createRequire as swarmcdnCreateRequire } from 'node:module'; const require = swarmcdnCreateRequire(import.meta.url);" },
  // @achingbrain/ssdp (UPnP gateway search, under @libp2p/upnp-nat) reads its own
  // package.json through createRequire at load time: it stays a runtime import.
  external: ['@achingbrain/ssdp'],
  legalComments: 'none',
  logLevel: 'warning'
})
