// Latency histograms of the perf modes (hdr-histogram-js), recorded in nanoseconds with three
// significant digits. They come from the kernel peer and the smoltcp bench (an encoded
// HdrHistogram in their JSON line), from wrk (its recorded latencies, through a Lua script) or
// from samples taken here (mem-tcp-rr), and are saved as HdrHistogram's percentile distribution
// text (the `.hgrm` that HdrHistogram's plotter reads), in microseconds.
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/** The peer tool's bound: a longer latency counts as this. */
const HIGHEST_NS = 60e9;

/** Values in the text are microseconds; the histograms hold nanoseconds. */
const NS_PER_US = 1000;

/** Rows per halving of the distance to 100% (HdrHistogram's default). */
const TICKS_PER_HALF_DISTANCE = 5;

export function newLatencyHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_NS,
    numberOfSignificantValueDigits: 3,
  });
}

/** An encoded HdrHistogram (V2 compressed, base64), as xdpnet-peer and the smoltcp bench send. */
export function decodeHistogram(base64: string): Histogram {
  return hdr.decodeFromCompressedBase64(base64);
}

/** A histogram of latencies given in microseconds. */
export function histogramOfMicros(values: ArrayLike<number>): Histogram {
  const h = newLatencyHistogram();
  for (let i = 0; i < values.length; i++) h.recordValue(toNs(values[i]));
  return h;
}

/** Microseconds to the nanoseconds a histogram records, capped at its bound. */
function toNs(us: number): number {
  return Math.min(Math.round(us * NS_PER_US), HIGHEST_NS);
}

/**
 * wrk's `done()` hook (wrk -s): every latency wrk recorded, as `hist <microseconds> <count>`
 * lines after its report. `latency(i)` gives the i-th distinct value and its count.
 */
export const WRK_HISTOGRAM_SCRIPT = `done = function(summary, latency, requests)
  for i = 1, #latency do
    local value, count = latency(i)
    io.write(string.format("hist %d %d\\n", value, count))
  end
end
`;

/** The histogram in wrk's output with WRK_HISTOGRAM_SCRIPT; empty when it has none. */
export function wrkHistogram(stdout: string): Histogram {
  const h = newLatencyHistogram();
  for (const m of stdout.matchAll(/^hist (\d+) (\d+)$/gm)) {
    h.recordValueWithCount(toNs(Number(m[1])), Number(m[2]));
  }
  return h;
}

/** HdrHistogram's percentile distribution text, values in microseconds. */
export function percentileDistribution(h: Histogram): string {
  return h.outputPercentileDistribution(TICKS_PER_HALF_DISTANCE, NS_PER_US);
}

export interface PercentilePoint {
  /** 0..1 */
  percentile: number;
  us: number;
}

/** The rows of a percentile distribution text (what the report's latency chart draws). */
export function parsePercentileDistribution(text: string): PercentilePoint[] {
  const rows = text.matchAll(/^\s*([\d.]+)\s+([\d.]+)\s+\d+/gm);
  return [...rows].map((m) => ({ us: Number(m[1]), percentile: Number(m[2]) }));
}
