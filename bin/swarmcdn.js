#!/bin/sh
':' //; p=$(readlink -f "$0" 2>/dev/null || echo "$0"); d=${p%/*}/..; for n in "$d/node_modules/node/bin/node" "$d/../node/bin/node"; do [ -x "$n" ] && exec "$n" --max-semi-space-size=2 --incremental-marking-soft-trigger=90 --incremental-marking-hard-trigger=95 --expose-gc "$p" "$@"; done; exec node --max-semi-space-size=2 --incremental-marking-soft-trigger=90 --incremental-marking-hard-trigger=95 --expose-gc "$p" "$@"
// The launcher, both a POSIX shell script and an ES module. As a command,
// the shell line above runs this file on the Node 24 runtime installed
// with swarmcdn (the npm package `node`, nested or beside swarmcdn),
// whatever `node` the PATH has, with SWARMCDN_NODE_FLAGS
// (src/cli/node-flags.ts says why; a test keeps the two in step). As
// JavaScript that line is a string and a comment. Started by another node
// (`node bin/swarmcdn.js`, tests), this module goes on below; a node
// older than 22 hands over to the bundled runtime (runOnBundledNode).
// The CLI itself is compiled to dist/ by `npm ci` (the prepare script).
import { spawn } from 'node:child_process'
import { statSync } from 'node:fs'
import module from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Oldest Node whose runtime libp2p 3 works on. */
const MIN_NODE_MAJOR = 22
const major = Number(process.versions.node.split('.')[0])
if (major < MIN_NODE_MAJOR) process.exit(await runOnBundledNode())

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
 * True when dist/cli/ (scripts/bundle-cli.js, which loads ~3x faster) may
 * run. An installed package has no TypeScript sources and always runs it.
 * In a checkout, tsc alone leaves the bundle older than its own output,
 * and running it would run yesterday's code: then tsc's output runs.
 */
function bundleIsFresh () {
  const mtime = (path) => statSync(new URL(path, import.meta.url), { throwIfNoEntry: false })?.mtimeMs
  const bundled = mtime('../dist/cli/main.js')
  if (bundled === undefined) return false
  if (mtime('../src/cli/main.ts') === undefined) return true
  const compiled = mtime('../dist/src/cli/main.js')
  return compiled === undefined || bundled >= compiled
}

/**
 * Runs this script again on the Node runtime installed with swarmcdn (the
 * `node` package, a dependency) and resolves with its exit status.
 *
 * The child gets its own process group and this process passes on
 * SIGINT, SIGTERM and SIGHUP: a Ctrl-C then reaches the child once (in
 * one group it would get the terminal's SIGINT and the passed-on one, and
 * the second would cut its clean stop short), and `kill -INT` of this
 * process works too. The launcher exits the way the child did.
 */
async function runOnBundledNode () {
  let runtime
  try {
    const pkg = module.createRequire(import.meta.url).resolve('node/package.json')
    runtime = join(dirname(pkg), 'bin', process.platform === 'win32' ? 'node.exe' : 'node')
  } catch {}
  if (runtime === undefined || statSync(runtime, { throwIfNoEntry: false }) === undefined) {
    process.stderr.write(`swarmcdn needs Node.js ${MIN_NODE_MAJOR} or newer (this is ${process.version}) and could not find the Node runtime it installs with it (the "node" package); reinstall swarmcdn, or run it with a newer node.\n`)
    return 1
  }
  const { SWARMCDN_NODE_FLAGS } = await import('../dist/src/cli/node-flags.js')
  const flags = [...new Set([...process.execArgv, ...SWARMCDN_NODE_FLAGS])]
  const child = spawn(runtime, [...flags, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', detached: true })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => { child.kill(signal) })
  return await new Promise(resolve => {
    child.once('error', err => {
      process.stderr.write(`swarmcdn: cannot start ${runtime}: ${err.message}\n`)
      resolve(1)
    })
    child.once('exit', (code, signal) => {
      if (signal != null) {
        process.removeAllListeners(signal)
        process.kill(process.pid, signal)
      }
      resolve(code ?? 1)
    })
  })
}
