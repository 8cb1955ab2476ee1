// Engine.start's `pcap` option (issue 12) on the test bed with the kernel peer: every frame the
// stacks receive and send lands in the capture, and tshark reads it back with the right count.
// One worker: the peer's UDP datagrams and TCP connections to the echo app, each frame in both
// directions, valid checksums, and as many frames as the interface counted. Two steered workers:
// their files are merged in time order into the one asked for and removed. And a path that
// cannot be written fails Engine.start before anything is set up. `xdpnet run --pcap` too.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import { Engine } from '../../ts/runtime/engine.js';
import { nodeXdp } from '../../ts/dev/xdp/native.js';
import { readPcap } from '../../ts/dev/pcap/pcap-reader.js';
import { runPeerPython } from '../support/peer-namespace.js';
import { PY_ECHO_TRAFFIC } from '../support/py-echo-traffic.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const app = path.join(here, '../introspection/apps/echo-both.js');
const cli = path.join(here, '../../../bin/xdpnet.js');

/** tshark's fields of every frame matching `filter` (all frames without one). */
function tshark(file: string, fields: string[], filter?: string): string[][] {
  const args = ['-r', file, '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'];
  if (filter) args.push('-Y', filter);
  args.push('-T', 'fields', ...fields.flatMap((f) => ['-e', f]));
  const r = spawnSync('tshark', args, { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'));
}

/** `tshark -r FILE -T fields -e frame.number | wc -l`, with an optional display filter. */
function frames(file: string, filter?: string): number {
  return tshark(file, ['frame.number'], filter).length;
}

describe('engine: pcap capture', function () {
  this.timeout(120_000);
  let dir: string;
  /** A one-queue bed for one worker, a two-queue bed for two. */
  let beds: TestBed[] = [];
  let engine: Engine | undefined;

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xdpnet-engine-pcap-'));
    beds.push(await TestBed.up({ queues: 1 }));
    beds.push(await TestBed.up({ queues: 2 }));
  });

  afterEach(async function () {
    await engine?.stop();
    engine = undefined;
  });

  after(async function () {
    try {
      for (const bed of beds) await bed.down();
    } finally {
      beds = [];
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  function start(bed: TestBed, workers: number, pcap: string): Promise<Engine> {
    return Engine.start({
      ifname: bed.engineIf,
      ipv4: [`${bed.engineIpv4}/${bed.ipv4Prefix}`],
      app,
      workers,
      control: false,
      pcap,
    });
  }

  it('one worker: every frame each way, as many as the interface counted, checksums valid', async function () {
    const bed = beds[0];
    const file = path.join(dir, 'one.pcap');
    engine = await start(bed, 1, file);
    const out = await runPeerPython(bed, PY_ECHO_TRAFFIC, [bed.engineIpv4, '200', '1', '5']);
    assert.equal(out, '200 5');
    const [stats] = await engine.stats();
    await engine.stop();
    engine = undefined;
    const total = frames(file);
    assert.equal(
      total,
      stats.iface.rxFrames + stats.iface.txFrames,
      'frames the interface counted',
    );
    const toEngine = `ip.dst == ${bed.engineIpv4}`;
    const fromEngine = `ip.src == ${bed.engineIpv4}`;
    assert.equal(frames(file, `udp && ${toEngine}`), 200, 'datagrams in');
    assert.equal(frames(file, `udp && ${fromEngine}`), 200, 'echoes out');
    assert.equal(frames(file, `tcp.flags.syn == 1 && tcp.flags.ack == 0 && ${toEngine}`), 5);
    assert.equal(frames(file, `tcp.flags.syn == 1 && tcp.flags.ack == 1 && ${fromEngine}`), 5);
    // What the engine sent carries the checksums it went out with (tcp/udp.checksum.status 1).
    const sums = tshark(file, ['tcp.checksum.status', 'udp.checksum.status'], fromEngine);
    assert.ok(sums.length >= 200 + 5 * 3);
    for (const [tcp, udp] of sums) assert.equal(tcp || udp, '1', `checksum status ${tcp}${udp}`);
  });

  it("two workers: one merged file in time order, the workers' files removed", async function () {
    const bed = beds[1];
    const file = path.join(dir, 'two.pcap');
    engine = await start(bed, 2, file);
    assert.equal(engine.mode, 'steered');
    const out = await runPeerPython(bed, PY_ECHO_TRAFFIC, [bed.engineIpv4, '50', '4', '4']);
    assert.equal(out, '200 4');
    const stats = await engine.stats();
    await engine.stop();
    engine = undefined;
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.startsWith('two.pcap.')),
      [],
    );
    const counted = stats.reduce((n, s) => n + s.iface.rxFrames + s.iface.txFrames, 0);
    assert.equal(frames(file), counted, 'frames the interfaces counted');
    assert.equal(frames(file, `udp && ip.dst == ${bed.engineIpv4}`), 200);
    assert.equal(frames(file, `udp && ip.src == ${bed.engineIpv4}`), 200);
    const times = readPcap(file).records.map((r) => r.timeMs);
    for (let i = 1; i < times.length; i++) assert.ok(times[i] >= times[i - 1], `record ${i}`);
  });

  it('a capture that cannot be written fails Engine.start, with nothing attached', async function () {
    await assert.rejects(start(beds[0], 1, path.join(dir, 'no/such/dir.pcap')), {
      code: 'ENOENT',
    });
    assert.equal(nodeXdp().attachedXdpProgram(beds[0].engineIf), null);
  });
});

describe('xdpnet run --pcap', function () {
  this.timeout(120_000);
  let dir: string;
  let child: ChildProcess | undefined;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xdpnet-run-pcap-'));
  });

  after(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("captures the peer's pings and the engine's replies", async function () {
    const file = path.join(dir, 'run.pcap');
    child = spawn(
      process.execPath,
      [cli, 'run', app, '--workers', '1', '--pcap', file, '--seconds', '60'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
    const bedLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).once('line', resolve);
      void exited.then((code) => reject(new Error(`xdpnet run exited ${code}: ${stderr}`)));
    });
    const bed = JSON.parse(bedLine) as { netns: string; engineIpv4: string };
    const ping = spawnSync(
      'ip',
      ['netns', 'exec', bed.netns, 'ping', '-c', '5', '-i', '0.2', '-W', '2', bed.engineIpv4],
      { timeout: 30_000 },
    );
    assert.equal(ping.status, 0, 'ping');
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    assert.equal(frames(file, `icmp.type == 8 && ip.dst == ${bed.engineIpv4}`), 5, 'requests');
    assert.equal(frames(file, `icmp.type == 0 && ip.src == ${bed.engineIpv4}`), 5, 'replies');
  });
});
