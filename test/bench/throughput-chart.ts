// A throughput result as a small SVG bar chart, drawn by hand (no chart library): one bar of
// lines/s per row, each labelled with its lines/s and its ratio to the first baseline; the
// gateway's rows blue, the rows that measure something else (`references`, default the
// baselines) grey.
import type { BenchResult } from './bench-results.js';

const ROW_HEIGHT = 26;
const LABEL_WIDTH = 270;
const BAR_WIDTH = 420;
const VALUE_WIDTH = 190;
const TOP = 62;

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

export function throughputChart(result: BenchResult): string {
  const rates = result.rows.map(([name, ms]) => [name, result.lines / (ms / 1000)] as const);
  const max = Math.max(...rates.map(([, rate]) => rate));
  const baseline = new Map(result.rows).get(result.baselines[0] ?? '');
  const width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH;
  const height = TOP + rates.length * ROW_HEIGHT + 34;
  const bars = rates.map(([name, rate], i) => {
    const y = TOP + i * ROW_HEIGHT;
    const w = Math.max(1, Math.round((rate / max) * BAR_WIDTH));
    const isBaseline = (result.references ?? result.baselines).includes(name);
    const ms = result.rows[i]![1];
    const ratio = baseline === undefined ? '' : `  ×${(baseline / ms).toFixed(2)}`;
    return [
      `<text x="${LABEL_WIDTH - 8}" y="${y + 17}" text-anchor="end">${escapeXml(name)}</text>`,
      `<rect x="${LABEL_WIDTH}" y="${y + 4}" width="${w}" height="${ROW_HEIGHT - 8}" fill="${isBaseline ? '#9aa0a6' : '#1a73e8'}"/>`,
      `<text x="${LABEL_WIDTH + w + 6}" y="${y + 17}">${Math.round(rate / 1000)}k lines/s${ratio}</text>`,
    ].join('\n  ');
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">
  <rect width="100%" height="100%" fill="#fff"/>
  <text x="8" y="20" font-weight="bold">${escapeXml(result.title)}</text>
  <text x="8" y="38" fill="#555">${escapeXml(result.machine.at(-1) ?? '')}</text>
  <text x="8" y="54" fill="#555">${escapeXml(`×: ratio to ${result.baselines[0] ?? 'the baseline'} (higher is faster); grey: not the gateway`)}</text>
  ${bars.join('\n  ')}
  <text x="8" y="${height - 10}" fill="#555">${escapeXml(`best of each row; measured ${result.date ?? ''}`)}</text>
</svg>
`;
}
