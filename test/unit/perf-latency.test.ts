// The perf harness's latency histograms: decoding what the Rust tools send, wrk's hook output,
// HdrHistogram's percentile distribution text, and the report built from them.
import assert from 'node:assert/strict';
import {
  decodeHistogram,
  histogramOfMicros,
  parsePercentileDistribution,
  percentileDistribution,
  wrkHistogram,
} from '../../perf/harness/latency.js';
import { reportHtml } from '../../perf/harness/report.js';
import { resultLine } from '../../perf/harness/perf-result.js';

/**
 * 1, 2, ... 1000 us in nanoseconds, as the Rust hdrhistogram crate (7.5, V2 deflate, bounds
 * 1..60 s, 3 digits: crates/xdpnet-peer/src/histogram.rs) encodes it.
 */
const RUST_ENCODED =
  'HISTFAAAAJ54nO2NSwrCMBRFX26UCFIycKguwRWIOHQL7sEViFN3IC7AkbgWKV1F5+2oHTY0gdIvpdBC2+S8T3KTl7t7vjZE' +
  '4k96cdOZSie+XOkcaMGTcCXeK/gCnwVCbuILRKwifgwP3BvyhqPilNZu/YAt9oqsDn+WcLBWqcl21epU7wWWKdz0PO1VOz/+' +
  'eQ4qUBLqaP2wjz+tuTWfh3kCZUI9YQ==';

describe('perf latency histograms', function () {
  it('decodes the Rust tools\u2019 encoding', function () {
    const h = decodeHistogram(RUST_ENCODED);
    assert.equal(h.totalCount, 1000);
    // Three significant digits: within 0.1% of 500 us.
    assert.ok(Math.abs(h.getValueAtPercentile(50) - 500_000) <= 500);
  });

  it('writes HdrHistogram percentile distribution text in microseconds', function () {
    const text = percentileDistribution(histogramOfMicros([10, 20, 30, 40, 1000]));
    assert.match(text, /^\s+Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)/);
    assert.match(text, /#\[Max\s+=\s+1000\.\d+, Total count\s+=\s+5\]/);
    const points = parsePercentileDistribution(text);
    assert.ok(points.length >= 5);
    assert.ok(Math.abs(points[0].us - 10) <= 0.01, `first row ${points[0].us} us`);
    assert.equal(points[points.length - 1].percentile, 1);
    for (let i = 1; i < points.length; i++) {
      assert.ok(points[i].percentile >= points[i - 1].percentile);
      assert.ok(points[i].us >= points[i - 1].us);
    }
  });

  it('reads wrk\u2019s recorded latencies from the hook\u2019s lines', function () {
    const stdout =
      'Running 1s test @ http://x/\n  Latency Distribution\n     50%  101.00us\nhist 90 3\nhist 120 1\n';
    const h = wrkHistogram(stdout);
    assert.equal(h.totalCount, 4);
    assert.ok(Math.abs(h.maxValue - 120_000) <= 120);
  });

  it('a report is one file that fetches nothing and carries both sides\u2019 data', function () {
    const line = resultLine({
      mode: 'tcp-rr',
      workers: 1,
      seconds: 1,
      pps: 10,
      baseline: { name: 'node-net-echo', workers: 1, seconds: 1, pps: 5 },
    });
    const html = reportHtml({
      line,
      samples: [
        { side: 'engine', label: 'tcp-rr on xdpnet', t: 0.5, packets: 5, pps: 10 },
        { side: 'baseline', label: 'tcp-rr on node-net-echo', t: 0.5, packets: 2, pps: 4 },
      ],
      histograms: { engine: histogramOfMicros([10, 20]), baseline: histogramOfMicros([30]) },
    });
    assert.doesNotMatch(html, /<script[^>]+src=|<link|@import|url\(/);
    assert.match(html, /<svg id="throughput"/);
    assert.match(html, /<svg id="latency"/);
    const data = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html);
    const parsed = JSON.parse(data![1]) as { throughput: unknown[]; latency: unknown[] };
    assert.equal(parsed.throughput.length, 2);
    assert.equal(parsed.latency.length, 2);
  });
});
