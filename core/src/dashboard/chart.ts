/** One line of a chart: a label (legend) and its points, x ascending. */
export interface ChartSeries {
  readonly label: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

export interface LineChartOptions {
  readonly width?: number;
  readonly height?: number;
  /** Axis titles. */
  readonly xLabel: string;
  readonly yLabel: string;
  /** Fixed y range; default from 0 to the largest value. */
  readonly yMax?: number;
  /** Text for an x tick (default: the number). */
  readonly formatX?: (x: number) => string;
}

/** Distinguishable on white and in greyscale print; repeats after ten series. */
const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563', '#65a30d', '#9333ea'];

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * A line chart as an inline SVG string, rendered on the server: no script, no CDN, and the page is
 * readable before any JavaScript runs. Used for the validator's weights over time.
 */
export function lineChartSvg(series: readonly ChartSeries[], options: LineChartOptions): string {
  const width = options.width ?? 1100;
  const height = options.height ?? 300;
  const margin = { top: 12, right: 180, bottom: 36, left: 52 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const yMax = options.yMax ?? (Math.max(...ys, 0) * 1.05 || 1);
  const sx = (x: number) => margin.left + (xMax === xMin ? plotW / 2 : ((x - xMin) / (xMax - xMin)) * plotW);
  const sy = (y: number) => margin.top + plotH - (Math.min(y, yMax) / yMax) * plotH;
  const formatX = options.formatX ?? ((x: number) => String(x));
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(options.yLabel)} by ${escapeXml(options.xLabel)}">`,
  );
  // Grid and y ticks: five steps.
  for (let i = 0; i <= 4; i++) {
    const value = (yMax * i) / 4;
    const y = round(sy(value));
    parts.push(`<line x1="${margin.left}" y1="${y}" x2="${margin.left + plotW}" y2="${y}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${y + 4}" text-anchor="end" font-size="11" fill="#6b7280">${value.toFixed(2)}</text>`);
  }
  // x ticks: every distinct x, thinned to at most ten labels.
  const distinctX = [...new Set(xs)].sort((a, b) => a - b);
  const every = Math.max(1, Math.ceil(distinctX.length / 10));
  distinctX.forEach((x, i) => {
    if (i % every !== 0) return;
    parts.push(
      `<text x="${round(sx(x))}" y="${margin.top + plotH + 16}" text-anchor="middle" font-size="11" fill="#6b7280">${escapeXml(formatX(x))}</text>`,
    );
  });
  parts.push(
    `<text x="${margin.left + plotW / 2}" y="${height - 4}" text-anchor="middle" font-size="12" fill="#374151">${escapeXml(options.xLabel)}</text>`,
  );
  parts.push(
    `<text x="14" y="${margin.top + plotH / 2}" text-anchor="middle" font-size="12" fill="#374151" transform="rotate(-90 14 ${margin.top + plotH / 2})">${escapeXml(options.yLabel)}</text>`,
  );
  parts.push(
    `<line x1="${margin.left}" y1="${margin.top + plotH}" x2="${margin.left + plotW}" y2="${margin.top + plotH}" stroke="#9ca3af"/>`,
  );
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const points = s.points.map((p) => `${round(sx(p.x))},${round(sy(p.y))}`).join(' ');
    parts.push(`<g class="series" data-label="${escapeXml(s.label)}">`);
    if (s.points.length > 1) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points}"/>`);
    for (const p of s.points) {
      parts.push(
        `<circle cx="${round(sx(p.x))}" cy="${round(sy(p.y))}" r="3" fill="${color}"><title>${escapeXml(`${s.label}: ${p.y.toFixed(4)} at ${formatX(p.x)}`)}</title></circle>`,
      );
    }
    parts.push('</g>');
    const ly = margin.top + 8 + i * 18;
    if (ly < height - margin.bottom) {
      parts.push(`<rect x="${width - margin.right + 14}" y="${ly - 8}" width="12" height="3" fill="${color}"/>`);
      parts.push(`<text x="${width - margin.right + 32}" y="${ly - 3}" font-size="11" fill="#374151">${escapeXml(s.label)}</text>`);
    }
  });
  parts.push('</svg>');
  return parts.join('');
}
