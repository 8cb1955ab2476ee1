// xdpnet perf --pcap (issue 12), through the command as a user runs it, on short rate-limited
// runs: rxdrop's capture holds exactly the packets the engine received; udp-echo's holds the
// requests the stack received and an answer to each (its echo, or port unreachable once the app's
// socket had closed); a mode that cannot capture refuses the flag instead of ignoring it. No
// timing assertions.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PerfResult } from '../../perf/harness/perf-result.js';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/xdpnet.js');

function xdpnet(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { timeout: 110_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The perf result: the last line of stdout. */
function result(stdout: string): PerfResult {
  return JSON.parse(stdout.trim().split('\n').pop()!) as PerfResult;
}

/** `tshark -r FILE -T fields -e frame.number | wc -l`, with an optional display filter. */
function frames(file: string, filter?: string): number {
  const args = [
    '-r',
    file,
    ...(filter ? ['-Y', filter] : []),
    '-T',
    'fields',
    '-e',
    'frame.number',
  ];
  const r = spawnSync('tshark', args, { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).length;
}

describe('perf --pcap', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xdpnet-perf-pcap-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('rxdrop: the capture holds every packet the engine received', async function () {
    const file = path.join(dir, 'rxdrop.pcap');
    const run = await xdpnet([
      'perf',
      'rxdrop',
      '--seconds',
      '1',
      '--rate',
      '20000',
      '--pcap',
      file,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const r = result(run.stdout);
    assert.ok((r.packets ?? 0) > 0, 'the engine received the flood');
    assert.equal(frames(file), r.packets);
    assert.equal(frames(file, 'udp.dstport == 9'), r.packets, 'all of it the flood');
  });

  it('udp-echo: the stack answered every request the capture shows it received', async function () {
    const file = path.join(dir, 'udp-echo.pcap');
    const run = await xdpnet([
      'perf',
      'udp-echo',
      '--seconds',
      '1',
      '--rate',
      '5000',
      '--pcap',
      file,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const r = result(run.stdout);
    // ICMP errors quote a UDP header, which the port filters would match too: the peer's port
    // unreachables for echoes that came after its flood sockets closed, and the engine's for
    // requests that came after the echo app's socket closed (the engine stopping).
    const requests = frames(file, 'udp.dstport == 7 && !icmp');
    const echoes = frames(file, 'udp.srcport == 7 && !icmp');
    const refused = frames(file, 'icmp.type == 3 && icmp.code == 3 && udp.dstport == 7');
    const counts = `${requests} requests, ${echoes} echoes, ${refused} port unreachable`;
    assert.ok(requests >= (r.offered ?? 0), `${counts}, ${r.offered} offered`);
    assert.equal(
      echoes + refused,
      requests,
      `an answer to every request: ${counts}\n${run.stderr}`,
    );
    // The peer's interface counted the echoes it got (and perhaps an ARP frame or two).
    assert.ok(echoes >= (r.packets ?? 0) - 5, `${echoes} echoes, the peer counted ${r.packets}`);
  });

  it('a mode that cannot capture refuses --pcap (a usage error) before it starts', async function () {
    const file = path.join(dir, 'txonly.pcap');
    const run = await xdpnet(['perf', 'txonly', '--seconds', '1', '--pcap', file]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--pcap is not a flag of this command/);
    assert.equal(fs.existsSync(file), false);
  });
});
