// Writes dist/prefix-tables/ip-location-db-asn.bin, the default AS table
// (@ip-location-db/asn CSVs) as sorted typed arrays in one block that a
// process reads in one go instead of parsing 515 k CSV lines
// (src/client/prefix-table-binary.ts). Skips the work when the block is
// already there for the installed CSVs. Runs after tsc (npm run build).
import { writeDefaultPrefixTableBinary } from '../dist/src/client/prefix-table-files.js'

const started = performance.now()
const { path, written } = writeDefaultPrefixTableBinary()
if (written) process.stderr.write(`wrote ${path} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
