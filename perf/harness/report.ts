// `xdpnet perf <mode> --report FILE.html`: one self-contained HTML file (no network fetches, the
// drawing code inlined) with the result's figures side by side, throughput over time from the
// progress samples and the latency percentile curves from the histograms, engine and baseline in
// the same charts.
import fs from 'node:fs';
import path from 'node:path';
import type { ResultLine } from './perf-result.js';
import type { ProgressSample, Side } from './progress.js';
import { parsePercentileDistribution, percentileDistribution, type Histogram } from './latency.js';
import { drawCharts, type ChartData, type ChartSeries } from './report-charts.js';

export interface ReportInput {
  line: ResultLine;
  samples: ProgressSample[];
  histograms: Partial<Record<Side, Histogram>>;
}

export function writeReport(file: string, input: ReportInput): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, reportHtml(input));
}

export function reportHtml({ line, samples, histograms }: ReportInput): string {
  const data: ChartData = {
    throughput: throughputSeries(samples),
    latency: latencySeries(line, histograms),
  };
  const title = `xdpnet perf ${line.mode}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 24px; max-width: 820px; }
  table { border-collapse: collapse; }
  td, th { padding: 2px 10px; text-align: right; border-bottom: 1px solid #eee; }
  th:first-child, td:first-child { text-align: left; }
  svg { width: 760px; height: 360px; display: block; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(sideSummary(line))}</p>
${figuresTable(line)}
<h2>Throughput over time</h2>
<svg id="throughput" xmlns="http://www.w3.org/2000/svg"></svg>
<h2>Latency by percentile</h2>
<svg id="latency" xmlns="http://www.w3.org/2000/svg"></svg>
<h2>Result line</h2>
<pre>${escapeHtml(JSON.stringify(line, null, 2))}</pre>
<script type="application/json" id="report-data">${scriptSafeJson(data)}</script>
<script>
(${drawCharts.toString()})(document, JSON.parse(document.getElementById('report-data').textContent));
</script>
</body>
</html>
`;
}

/**
 * One line per phase (side and label), in steps: each sample is the rate over the interval that
 * ends at it, so it is drawn from the previous sample's time (the phase's start for the first).
 */
function throughputSeries(samples: ProgressSample[]): ChartSeries[] {
  const series = new Map<string, ChartSeries>();
  for (const s of samples) {
    const key = `${s.side}\u0000${s.label}`;
    if (!series.has(key)) series.set(key, { side: s.side, label: s.label, points: [] });
    const points = series.get(key)!.points;
    const from = points.length > 0 ? points[points.length - 1][0] : 0;
    points.push([from, s.pps], [s.t, s.pps]);
  }
  return [...series.values()];
}

/**
 * A curve per side with a histogram: the rows of its percentile distribution (as saved), the
 * 100% row (which no log scale reaches) drawn as the max at the deepest percentile before it.
 */
function latencySeries(
  line: ResultLine,
  histograms: Partial<Record<Side, Histogram>>,
): ChartSeries[] {
  const names: Record<Side, string> = { engine: 'xdpnet', baseline: line.baseline?.name ?? '' };
  return (['engine', 'baseline'] as const).flatMap((side) => {
    const h = histograms[side];
    if (!h || h.totalCount === 0) return [];
    const rows = parsePercentileDistribution(percentileDistribution(h));
    const below = rows.filter((r) => r.percentile < 1);
    const deepest = below.length > 0 ? below[below.length - 1].percentile : 0;
    const max = rows[rows.length - 1].us;
    const points = below.map((r): [number, number] => [r.percentile, r.us]);
    points.push([deepest, max]);
    return [{ side, label: names[side], points }];
  });
}

function sideSummary(line: ResultLine): string {
  const xdp = line.xdpMode
    ? `XDP ${line.xdpMode}, ${line.zeroCopy ? 'zero-copy' : 'copy mode'}`
    : 'no XDP';
  const busy = line.busyPoll ? `, busy polling ${line.busyPoll.usecs} µs` : '';
  const base = line.baseline ? `; baseline: ${line.baseline.name}` : '; no baseline';
  return `${line.workers} worker(s), ${xdp}${busy}, ${line.seconds} s${base}`;
}

/** Every number either side has, with engine/baseline. */
function figuresTable(line: ResultLine): string {
  const base = line.baseline;
  const keys = [...new Set([...Object.keys(line), ...Object.keys(base ?? {})])].filter(
    (k) => typeof line[k] === 'number' || typeof base?.[k] === 'number',
  );
  const cell = (v: unknown) => `<td>${typeof v === 'number' ? v : '-'}</td>`;
  const rows = keys.map((k) => {
    const a = line[k];
    const b = base?.[k];
    const ratio =
      typeof a === 'number' && typeof b === 'number' && b !== 0 ? +(a / b).toFixed(3) : undefined;
    return `<tr><td>${escapeHtml(k)}</td>${cell(a)}${cell(b)}${cell(ratio)}</tr>`;
  });
  const head = `<tr><th></th><th>xdpnet</th><th>${escapeHtml(base?.name ?? '-')}</th><th>ratio</th></tr>`;
  return `<table>\n${head}\n${rows.join('\n')}\n</table>`;
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!,
  );
}

/** JSON that cannot end its <script> element early. */
function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}
