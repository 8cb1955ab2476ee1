// `xdpnet perf --report FILE.html` in headless Chromium: the charts' script ran (data-rendered),
// and each chart has a path per series (engine and baseline) through every point it was given.
// First a report of known data, then a real tcp-rr run on the test bed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPerf } from '../../perf/run-perf.js';
import { resultLine } from '../../perf/harness/perf-result.js';
import { histogramOfMicros } from '../../perf/harness/latency.js';
import { writeReport } from '../../perf/harness/report.js';
import type { ProgressSample } from '../../perf/harness/progress.js';
import { dumpDom, element, elements, type Attributes } from '../support/chromium.js';

interface DrawnChart {
  svg: Attributes;
  series: Attributes[];
}

/** The chart <svg id="id"> as Chromium left it. */
function drawn(dom: string, id: string): DrawnChart {
  const svg = element(dom, 'svg', new RegExp(`id="${id}"`));
  assert.ok(svg, `no <svg id="${id}"> in the DOM`);
  const series = elements(svg.inner, 'path').filter((p) => p.class === 'series');
  return { svg: svg.attributes, series };
}

/** Draw commands (M, L) in a path's `d`: one per point. */
function commands(d: string): number {
  return (d.match(/[ML]/g) ?? []).length;
}

function assertRendered(chart: DrawnChart, sides: string[]): void {
  assert.equal(chart.svg['data-rendered'], 'true');
  assert.equal(Number(chart.svg['data-series']), sides.length);
  assert.deepEqual(
    chart.series.map((s) => s['data-side']),
    sides,
  );
  for (const s of chart.series) {
    assert.ok(Number(s['data-points']) > 0);
    assert.equal(commands(s.d), Number(s['data-points']), 'a vertex per point');
    assert.doesNotMatch(s.d, /NaN|Infinity/);
  }
}

describe('perf --report: one HTML file that headless Chromium draws', function () {
  this.timeout(180_000);
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xdpnet-perf-report-'));
  });

  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('draws known data: a step per progress sample, a point per percentile row', async () => {
    const samples: ProgressSample[] = [1, 2, 3].flatMap((i) => [
      { side: 'engine', label: 'tcp-rr on xdpnet', t: i, packets: 100 * i, pps: 100 },
      { side: 'baseline', label: 'tcp-rr on node-net-echo', t: i, packets: 50 * i, pps: 50 },
    ]);
    const line = resultLine({
      mode: 'tcp-rr',
      workers: 1,
      seconds: 3,
      pps: 100,
      baseline: { name: 'node-net-echo', workers: 1, seconds: 3, pps: 50 },
    });
    const file = path.join(dir, 'known.html');
    const histograms = {
      engine: histogramOfMicros([10, 20, 30]),
      baseline: histogramOfMicros([40]),
    };
    writeReport(file, { line, samples, histograms });
    const dom = await dumpDom(file);
    const throughput = drawn(dom, 'throughput');
    assertRendered(throughput, ['engine', 'baseline']);
    // Three samples, each a horizontal step: two vertices each.
    assert.deepEqual(
      throughput.series.map((s) => s['data-points']),
      ['6', '6'],
    );
    assertRendered(drawn(dom, 'latency'), ['engine', 'baseline']);
  });

  it('tcp-rr --report: both phases over time and both latency curves, histograms beside it', async () => {
    const report = path.join(dir, 'tcp-rr.html');
    const line = await runPerf('tcp-rr', { seconds: 1, size: 18, rate: 0, batch: 64, report });
    assert.equal(line.histogramFile, path.join(dir, 'tcp-rr-engine.hgrm'));
    assert.equal(line.baseline?.histogramFile, path.join(dir, 'tcp-rr-baseline.hgrm'));
    for (const file of [line.histogramFile, line.baseline?.histogramFile] as string[]) {
      assert.match(fs.readFileSync(file, 'utf8'), /Value\s+Percentile\s+TotalCount/);
    }
    const dom = await dumpDom(report);
    assertRendered(drawn(dom, 'throughput'), ['engine', 'baseline']);
    assertRendered(drawn(dom, 'latency'), ['engine', 'baseline']);
  });
});
