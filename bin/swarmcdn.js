#!/usr/bin/env -S node --max-semi-space-size=2
// Thin launcher: the CLI is compiled to dist/ by `npm ci` (the prepare script).
// The shebang flags are SWARMCDN_NODE_FLAGS (src/cli/node-flags.ts says why).
import { statSync } from 'node:fs'
import module from 'node:module'

const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  process.stderr.write(`swarmcdn needs Node.js 22 or newer (this is ${process.version}); run it as \`npx swarmcdn\` inside the project so it uses the bundled Node.\n`)
  process.exit(1)
}
// The small young generation that keeps a download's memory low costs the
// simulator (millions of short-lived events) about a third of its speed,
// so `sim` runs in a child with the simulator's own V8 flags instead
// (SIM_NODE_FLAGS in src/cli/node-flags.ts says why).
if (process.argv[2] === 'sim') {
  const { rerunWithSimFlags } = await import('../dist/src/cli/node-flags.js')
  const status = rerunWithSimFlags()
  if (status !== undefined) process.exit(status)
}
// V8 keeps the compiled code of the modules on disk (in the OS temp folder)
// and the next start skips compiling them: ~20 ms of a ~200 ms `get`.
// NODE_DISABLE_COMPILE_CACHE=1 turns it off.
module.enableCompileCache?.()
await import(bundleIsFresh() ? '../dist/cli/main.js' : '../dist/src/cli/main.js')

/**
 * True when dist/cli/ (scripts/bundle-cli.js, which loads ~3x faster) was
 * built from the current tsc output; after a `tsc` alone it is older than
 * tsc's files, and running it would run yesterday's code.
 */
function bundleIsFresh () {
  const mtime = (path) => statSync(new URL(path, import.meta.url), { throwIfNoEntry: false })?.mtimeMs
  const bundled = mtime('../dist/cli/main.js')
  const compiled = mtime('../dist/src/cli/main.js')
  return bundled !== undefined && (compiled === undefined || bundled >= compiled)
}
