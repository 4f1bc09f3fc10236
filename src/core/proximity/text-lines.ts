/** Splits text into lines without copying it whole ("\n" or "\r\n" endings; a final newline adds no empty line). */
export function * textLines (text: string): Generator<string> {
  let start = 0
  while (start < text.length) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = text.length
    yield text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end)
    start = end + 1
  }
}

/** A string is split into lines; any other iterable is taken as lines already. */
export function asLines (input: Iterable<string> | string): Iterable<string> {
  return typeof input === 'string' ? textLines(input) : input
}
