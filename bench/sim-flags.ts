/**
 * The simulator benchmarks measure what `swarmcdn sim` runs: they re-run
 * themselves with SIM_NODE_FLAGS, unless SWARMCDN_BENCH_DEFAULT_FLAGS=1
 * (as in bench/download.ts) asks for the flags given on the command line
 * only, to measure the flags' effect in one shell session.
 */
import { rerunWithSimFlags } from '../src/cli/node-flags.js'

if (process.env.SWARMCDN_BENCH_DEFAULT_FLAGS !== '1') {
  const status = rerunWithSimFlags()
  if (status !== undefined) process.exit(status)
}
