/** Parses a decimal AS number (0..2^32-1), or returns -1 for anything else (no sign, no "AS" prefix, no spaces). */
export function parseAsnDigits (s: string, from = 0, to = s.length): number {
  if (to <= from || to - from > 10) return -1
  let v = 0
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) return -1
    v = v * 10 + (c - 48)
  }
  return v <= 0xffffffff ? v : -1
}
