/**
 * A tiny SVG line-chart writer (axes, ticks, legend, polylines). Written by
 * hand: the charting packages on npm either need a DOM (d3, vega without
 * node-canvas) or pull in hundreds of kB for what is ~100 lines here, and
 * the output must be byte-deterministic for the determinism test.
 */

/** One line of a chart. */
export interface ChartSeries {
  label: string
  /** Points [x, y]; drawn in order. */
  points: Array<[number, number]>
}

/** Options for lineChartSvg. */
export interface ChartInit {
  title: string
  xLabel: string
  yLabel: string
  /** Default 720. */
  widthPx?: number
  /** Default 360. */
  heightPx?: number
  /** Draw as a step function (for CDFs); default false. */
  step?: boolean
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b']

function esc (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function fmt (v: number): string {
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`
  return `${+v.toPrecision(3)}`
}

function niceTicks (lo: number, hi: number, count = 5): number[] {
  if (hi <= lo) hi = lo + 1
  const raw = (hi - lo) / count
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw
  const out: number[] = []
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(+t.toPrecision(12))
  return out
}

/** Renders series as an SVG line chart string. */
export function lineChartSvg (series: ChartSeries[], init: ChartInit): string {
  const W = init.widthPx ?? 720; const H = init.heightPx ?? 360
  const L = 70; const R = 150; const T = 30; const B = 45
  const all = series.flatMap((s) => s.points)
  const xs = all.map((p) => p[0]); const ys = all.map((p) => p[1])
  const x0 = xs.length > 0 ? Math.min(...xs) : 0; let x1 = xs.length > 0 ? Math.max(...xs) : 1
  const y0 = Math.min(0, ...ys); let y1 = ys.length > 0 ? Math.max(...ys) : 1
  if (x1 <= x0) x1 = x0 + 1
  if (y1 <= y0) y1 = y0 + 1
  const sx = (x: number): number => L + (x - x0) / (x1 - x0) * (W - L - R)
  const sy = (y: number): number => H - B - (y - y0) / (y1 - y0) * (H - T - B)
  const n = (v: number): string => v.toFixed(1)
  const parts: string[] = []
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`)
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`)
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">${esc(init.title)}</text>`)
  parts.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`)
  for (const t of niceTicks(x0, x1)) {
    if (t < x0 || t > x1) continue
    parts.push(`<line x1="${n(sx(t))}" y1="${H - B}" x2="${n(sx(t))}" y2="${H - B + 4}" stroke="black"/><text x="${n(sx(t))}" y="${H - B + 16}" text-anchor="middle">${fmt(t)}</text>`)
  }
  for (const t of niceTicks(y0, y1)) {
    if (t < y0 || t > y1) continue
    parts.push(`<line x1="${L - 4}" y1="${n(sy(t))}" x2="${W - R}" y2="${n(sy(t))}" stroke="#ddd"/><text x="${L - 6}" y="${n(sy(t) + 4)}" text-anchor="end">${fmt(t)}</text>`)
  }
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">${esc(init.xLabel)}</text>`)
  parts.push(`<text transform="translate(14 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(init.yLabel)}</text>`)
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]
    const pts: string[] = []
    s.points.forEach(([x, y], k) => {
      if (init.step === true && k > 0) pts.push(`${n(sx(x))},${n(sy(s.points[k - 1][1]))}`)
      pts.push(`${n(sx(x))},${n(sy(y))}`)
    })
    if (pts.length > 0) parts.push(`<polyline fill="none" stroke="${c}" stroke-width="1.5" points="${pts.join(' ')}"/>`)
    parts.push(`<rect x="${W - R + 10}" y="${T + i * 18}" width="12" height="3" fill="${c}"/><text x="${W - R + 28}" y="${T + i * 18 + 5}">${esc(s.label)}</text>`)
  })
  parts.push('</svg>\n')
  return parts.join('\n')
}

/** Empirical CDF points of values (at most maxPoints, evenly spaced in rank). */
export function cdfPoints (sorted: Float64Array, maxPoints = 400): Array<[number, number]> {
  const n = sorted.length
  if (n === 0) return []
  const step = Math.max(1, Math.floor(n / maxPoints))
  const pts: Array<[number, number]> = []
  for (let i = 0; i < n; i += step) pts.push([sorted[i], (i + 1) / n])
  if (pts[pts.length - 1][1] !== 1) pts.push([sorted[n - 1], 1])
  return pts
}
