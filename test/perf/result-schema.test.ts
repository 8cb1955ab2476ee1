// Every perf mode, run for real through the command line on a short load: its last stdout line
// conforms to perf/result.schema.json, it printed progress lines for the engine's phase and the
// baseline's (--interval), and the latency modes saved a histogram per side in HdrHistogram's
// percentile distribution text (--histogram-dir). No timing assertions: these are 1 s runs on a
// shared machine. Each run makes (and removes) its own test bed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { perfModes } from '../../perf/run-perf.js';
import { PERF_MODES, type PerfModeName } from '../../perf/mode-catalogue.js';
import { packageRoot } from '../../ts/dev/xdp/native.js';
import { validate, type Schema } from '../support/json-schema.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '../../../bin/xdpnet.js');
const schema = JSON.parse(
  fs.readFileSync(path.join(packageRoot, 'perf/result.schema.json'), 'utf8'),
) as Schema;

/** Modes whose load measures request latency, so both sides have a histogram. */
const latencyModes = new Set([
  'udp-echo',
  'tcp-rr',
  'tcp-crr',
  'epoll-echo',
  'http',
  'https',
  'express',
  'mem-tcp-rr',
]);

/** More per mode: mem-tcp-stream is bounded by bytes, not seconds. */
const extraArgs: Record<string, string[]> = {
  'mem-tcp-stream': ['--bytes', String(4 << 20)],
  fuzz: ['--count', '20000'],
};
/** Bounded by bytes or frames, not seconds: these take no --seconds (the CLI refuses it). */
const noSeconds = new Set(['mem-tcp-stream', 'fuzz']);
/** A campaign with nothing beside it: no baseline, so progress of the engine's phase only. */
const noBaseline = new Set(['fuzz']);

interface CliRun {
  stdout: string;
  stderr: string;
}

function perf(mode: string, args: string[]): Promise<CliRun> {
  const duration = noSeconds.has(mode) ? [] : ['--seconds', '1'];
  const argv = [cli, 'perf', mode, ...duration, '--interval', '0.25', ...args];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, argv, { timeout: 240_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`perf ${mode} failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

function lastLine(text: string): unknown {
  return JSON.parse(text.trim().split('\n').pop() ?? '');
}

/** The `side: label: t s, N packets, rate` lines of one side. */
function progressLines(stderr: string, side: 'engine' | 'baseline'): string[] {
  return stderr
    .split('\n')
    .filter((l) => new RegExp(`^\\s+${side}: .+: [\\d.]+ s, \\d+ packets, `).test(l));
}

function assertHistogramFile(file: unknown, what: string): void {
  assert.equal(typeof file, 'string', `${what}: a histogram file is named`);
  const text = fs.readFileSync(file as string, 'utf8');
  assert.match(text, /^\s+Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)/, what);
  const total = /Total count\s+=\s+(\d+)/.exec(text);
  assert.ok(total && Number(total[1]) > 0, `${what}: the histogram has samples`);
}

describe('perf: every mode ends with a line of perf/result.schema.json', function () {
  this.timeout(300_000);
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xdpnet-perf-schema-'));
  });

  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const mode of Object.keys(perfModes)) {
    const phases = noBaseline.has(mode) ? 'its phase' : 'both phases';
    it(`${mode}: schema, progress of ${phases}${latencyModes.has(mode) ? ', histograms' : ''}`, async () => {
      const run = await perf(mode, ['--histogram-dir', dir, ...(extraArgs[mode] ?? [])]);
      const line = lastLine(run.stdout) as Record<string, unknown> & {
        baseline: Record<string, unknown>;
      };
      assert.deepEqual(validate(schema, line), [], JSON.stringify(line));
      assert.equal(line.mode, mode);
      if (noBaseline.has(mode)) {
        assert.equal(line.baseline, null);
        assert.ok(progressLines(run.stderr, 'engine').length > 0, `progress:\n${run.stderr}`);
        return;
      }
      assert.ok(line.baseline !== null, 'the bed runs a baseline beside the engine');
      // veth reports no RSS: the whole engine falls back to software, and says so.
      const reads: readonly string[] = PERF_MODES[mode as PerfModeName].reads;
      assert.equal(line.rss, reads.includes('rss') ? 'software' : undefined);
      for (const side of ['engine', 'baseline'] as const) {
        assert.ok(progressLines(run.stderr, side).length > 0, `${side} progress:\n${run.stderr}`);
      }
      if (latencyModes.has(mode)) {
        assertHistogramFile(line.histogramFile, `${mode} engine`);
        assertHistogramFile(line.baseline.histogramFile, `${mode} baseline`);
      }
    });
  }

  it('tcp-stream --mtu 9000: both sides at the jumbo MTU, in the schema', async () => {
    const run = await perf('tcp-stream', ['--mtu', '9000']);
    const line = lastLine(run.stdout) as Record<string, unknown> & {
      baseline: Record<string, unknown>;
    };
    assert.deepEqual(validate(schema, line), [], JSON.stringify(line));
    assert.equal(line.mtu, 9000);
    assert.equal(line.baseline.mtu, 9000);
    assert.ok((line.bps as number) > 0 && (line.baseline.bps as number) > 0, JSON.stringify(line));
  });
});
