// The wire bed against the real kernel: a userspace relay (xdpnet-peer wire) between the engine's
// veth and the peer's that stands in for netem. Pings and a UDP stream cross it clean and
// impaired (delay, loss, duplication, reordering), the bed leaves nothing behind, and the engine
// serves a kernel TCP client through every impairment at once. Needs root and `npm run build:peer`.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Engine } from '../../ts/runtime/engine.js';
import { TestBed } from '../../ts/testbed/index.js';
import { wireNames } from '../../ts/testbed/addressing.js';
import { relayToolPath } from '../../ts/testbed/wire-relay.js';
import { runCommand } from '../../ts/testbed/command.js';
import { startEngineOnBed } from '../support/engine-on-bed.js';
import { runPeerPython } from '../support/peer-namespace.js';
import { PY_ECHO_SHA } from '../support/py-echo-sha.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const TESTBED_MODULE = path.resolve(here, '../../ts/testbed/index.js');
const echoApp = path.join(here, '../../examples/tcp-echo.js');

const netnsExists = (name: string): boolean => fs.existsSync(`/run/netns/${name}`);
const linkExists = (name: string): boolean => fs.existsSync(`/sys/class/net/${name}`);

/** Running, not a zombie: orphans whose init never reaps them stay zombies here. */
function pidAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Pids of the processes in a namespace (the relay, in a wire namespace). */
function netnsPids(netns: string): number[] {
  return execFileSync('ip', ['netns', 'pids', netns], { encoding: 'utf8', timeout: 10_000 })
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
}

interface PingResult {
  sent: number;
  received: number;
  duplicates: number;
  minMs: number;
  output: string;
}

function parsePing(output: string): PingResult {
  const counts = /(\d+) packets transmitted, (\d+) received(?:, \+(\d+) duplicates)?/.exec(output);
  assert.ok(counts, `no ping summary in: ${output}`);
  const rtt = /= ([\d.]+)\/[\d.]+\/[\d.]+/.exec(output);
  return {
    sent: Number(counts[1]),
    received: Number(counts[2]),
    duplicates: Number(counts[3] ?? 0),
    minMs: rtt ? Number(rtt[1]) : NaN,
    output,
  };
}

/** Pings `dst` from the peer namespace; `deadline` seconds bound it whatever is lost. */
async function ping(bed: TestBed, dst: string, count: number, intervalS: number, deadline: number) {
  const argv = ['ping', '-n', '-q', '-c', String(count), '-i', String(intervalS)];
  argv.push('-W', '1', '-w', String(deadline), dst);
  const r = await bed.exec(argv, { timeoutMs: (deadline + 5) * 1000 });
  return parsePing(r.stdout + r.stderr);
}

async function addEngineSideAddresses(bed: TestBed): Promise<void> {
  await bed.addKernelAddressOnEngineSide(`${bed.engineIpv4}/${bed.ipv4Prefix}`);
  await bed.addKernelAddressOnEngineSide(`${bed.engineIpv6}/${bed.ipv6Prefix}`);
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

const UP_WIRE_AND_WAIT = `
const { TestBed } = await import(process.env.TESTBED_MODULE);
const bed = await TestBed.up({ wire: true });
console.log(JSON.stringify(bed));
setInterval(() => {}, 1000);
`;

describe('TestBed wire (userspace netem relay, needs root)', function () {
  this.timeout(60_000);
  let bed: TestBed | undefined;
  let engine: Engine | undefined;
  const children: ChildProcess[] = [];

  before(function () {
    if (!fs.existsSync(relayToolPath)) this.skip(); // `npm run build:peer` first
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await exited(child);
    }
    try {
      await engine?.stop();
    } finally {
      engine = undefined;
      await bed?.down();
      bed = undefined;
      await TestBed.reapStale();
    }
  });

  it('relays IPv4 and IPv6 through a clean wire from a namespace with no addresses', async () => {
    bed = await TestBed.up({ wire: true });
    assert.equal(bed.wire, true);
    const w = wireNames(bed.slot);
    assert.equal(bed.wireNetns, w.wireNetns);
    assert.ok(w.wireEngineIf.length <= 15 && w.wirePeerIf.length <= 15);
    await addEngineSideAddresses(bed);
    const v4 = await ping(bed, bed.engineIpv4, 3, 0.2, 10);
    const v6 = await ping(bed, bed.engineIpv6, 3, 0.2, 10);
    assert.equal(v4.received, 3, v4.output);
    assert.equal(v6.received, 3, v6.output);
    // The wire namespace itself has no address of either family to answer with.
    const addrs = execFileSync('ip', ['-n', w.wireNetns, '-j', 'addr', 'show'], {
      encoding: 'utf8',
    });
    for (const link of JSON.parse(addrs) as { ifname: string; addr_info: unknown[] }[]) {
      assert.deepEqual(link.addr_info, [], `${link.ifname} has addresses`);
    }
    const stats = await bed.wireStats();
    assert.ok(stats.toPeer.forwarded >= 6 && stats.toEngine.forwarded >= 6, JSON.stringify(stats));
    assert.equal(stats.toPeer.oversize + stats.toEngine.oversize, 0);
  });

  it('delays each direction by delayMs: a 20 ms wire gives a ping RTT of at least 40 ms', async () => {
    bed = await TestBed.up({ wire: true, mtu: 1400 });
    const w = wireNames(bed.slot);
    for (const dev of [w.wireEngineIf, w.wirePeerIf]) {
      const mtu = execFileSync('ip', ['-n', w.wireNetns, '-j', 'link', 'show', 'dev', dev], {
        encoding: 'utf8',
      });
      assert.equal((JSON.parse(mtu) as { mtu: number }[])[0].mtu, 1400, dev);
    }
    await addEngineSideAddresses(bed);
    // A full-MTU frame (1372 + 8 ICMP + 20 IP = 1400, don't fragment) crosses whole.
    const full = await bed.exec([
      'ping',
      '-c',
      '1',
      '-W',
      '2',
      '-M',
      'do',
      '-s',
      '1372',
      bed.engineIpv4,
    ]);
    assert.equal(full.code, 0, full.stdout + full.stderr);
    await bed.setNetem({ delayMs: 20 });
    const r = await ping(bed, bed.engineIpv4, 5, 0.1, 10);
    assert.equal(r.received, 5, r.output);
    assert.ok(r.minMs >= 40, `min RTT ${r.minMs} ms < 40 ms`);
    await bed.clearNetem();
    const clean = await ping(bed, bed.engineIpv4, 5, 0.1, 10);
    assert.ok(clean.minMs < 20, `still delayed after clearNetem: ${clean.minMs} ms`);
  });

  it('loses about lossPct of the frames in the chosen direction', async function () {
    this.timeout(40_000);
    bed = await TestBed.up({ wire: true });
    await addEngineSideAddresses(bed);
    await ping(bed, bed.engineIpv4, 1, 0.2, 5);
    await bed.setNetem({ lossPct: 20, direction: 'toEngine' });
    const r = await ping(bed, bed.engineIpv4, 500, 0.002, 20);
    const lost = r.sent - r.received;
    assert.ok(r.sent >= 400, r.output);
    assert.ok(lost > 0.1 * r.sent && lost < 0.3 * r.sent, `lost ${lost} of ${r.sent}`);
    const stats = await bed.wireStats();
    assert.equal(stats.toPeer.dropped, 0, 'toPeer was not to be impaired');
    const share = stats.toEngine.dropped / stats.toEngine.received;
    assert.ok(share > 0.1 && share < 0.3, JSON.stringify(stats));
  });

  it('duplicates: ping sees DUP! replies and the relay counts them', async () => {
    bed = await TestBed.up({ wire: true });
    await addEngineSideAddresses(bed);
    await bed.setNetem({ duplicatePct: 50 });
    const r = await ping(bed, bed.engineIpv4, 20, 0.05, 10);
    assert.equal(r.received, 20, r.output);
    assert.ok(r.duplicates > 0, r.output);
    const stats = await bed.wireStats();
    assert.ok(stats.toEngine.duplicated > 0 && stats.toPeer.duplicated > 0, JSON.stringify(stats));
  });

  it('reorders a numbered UDP stream: reordered frames overtake delayed ones', async function () {
    this.timeout(40_000);
    bed = await TestBed.up({ wire: true });
    await addEngineSideAddresses(bed);
    await ping(bed, bed.engineIpv4, 1, 0.2, 5); // ARP resolved before the flood
    await bed.setNetem({ delayMs: 5, reorderPct: 25, direction: 'toEngine', seed: 7 });
    const count = 2000;
    // The sink runs here, in the engine's namespace, on the engine side's kernel address.
    const sink = runCommand(
      [relayToolPath, 'sink', '--bind', bed.engineIpv4, '--port', '9999'].concat([
        '--count',
        String(count),
        '--seconds',
        '15',
        '--idle',
        '2',
      ]),
      { timeoutMs: 20_000 },
    );
    await new Promise((r) => setTimeout(r, 300));
    const flood = await bed.exec(
      [relayToolPath, 'flood', '--dst', bed.engineIpv4, '--port', '9999'].concat([
        '--size',
        '64',
        '--count',
        String(count),
        '--rate',
        '20000',
      ]),
      { timeoutMs: 20_000 },
    );
    assert.equal(flood.code, 0, flood.stderr);
    const sunk = await sink;
    const report = JSON.parse(sunk.stdout.trim().split('\n').pop() ?? '{}') as {
      received: number;
      outOfOrder: number;
    };
    assert.ok(report.received > 0.9 * count, sunk.stdout);
    assert.ok(report.outOfOrder > 0, `nothing arrived out of order: ${sunk.stdout}`);
    const stats = await bed.wireStats();
    assert.ok(stats.toEngine.reordered > 0, JSON.stringify(stats));
    assert.equal(stats.toPeer.reordered, 0);
  });

  it('down() removes the wire namespace, every interface and the relay', async () => {
    const b = await TestBed.up({ wire: true });
    bed = b;
    const w = wireNames(b.slot);
    const pids = netnsPids(w.wireNetns);
    assert.equal(pids.length, 1, `expected the relay alone in ${w.wireNetns}: ${pids.join(' ')}`);
    await b.down();
    assert.equal(netnsExists(w.wireNetns), false, `${w.wireNetns} still exists`);
    assert.equal(netnsExists(b.netns), false);
    assert.equal(linkExists(b.engineIf), false);
    assert.equal(pidAlive(pids[0]), false, `relay ${pids[0]} still runs`);
    await assert.rejects(b.wireStats(), { code: 'ENODEV' });
  });

  it('leaves nothing behind when up({ wire: true }) fails half-way (invalid MTU)', async () => {
    const before = fs.readdirSync('/run/netns').filter((n) => n.endsWith('-wire'));
    await assert.rejects(TestBed.up({ wire: true, mtu: 1_000_000 }));
    const after = fs.readdirSync('/run/netns').filter((n) => n.endsWith('-wire'));
    assert.deepEqual(
      after.filter((n) => !before.includes(n)),
      [],
      'a wire namespace was left',
    );
  });

  it('removes the wire bed and its relay when the owner exits', async () => {
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        UP_WIRE_AND_WAIT.replace(
          'setInterval(() => {}, 1000);',
          'setTimeout(() => process.exit(0), 1500);',
        ),
      ],
      { env: { ...process.env, TESTBED_MODULE }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(child);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    let relay = 0;
    const timer = setInterval(() => {
      const line = out.split('\n')[0];
      if (relay || !out.includes('\n')) return;
      const ns = (JSON.parse(line) as { wireNetns: string }).wireNetns;
      relay = netnsExists(ns) ? (netnsPids(ns)[0] ?? 0) : 0;
    }, 20);
    await exited(child);
    clearInterval(timer);
    assert.equal(child.exitCode, 0);
    const theirs = JSON.parse(out.split('\n')[0]) as { netns: string; wireNetns: string };
    assert.equal(netnsExists(theirs.wireNetns), false, `${theirs.wireNetns} was left`);
    assert.equal(netnsExists(theirs.netns), false, `${theirs.netns} was left`);
    assert.ok(relay > 0, 'the relay was not seen running');
    assert.equal(pidAlive(relay), false, `relay ${relay} still runs`);
  });

  it('a killed owner leaves a wire bed that the next up() removes, relay included', async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', UP_WIRE_AND_WAIT], {
      env: { ...process.env, TESTBED_MODULE },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        out += s;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child.on('exit', (code) => reject(new Error(`child exited (${code}) before its bed was up`)));
    });
    const theirs = JSON.parse(line) as { netns: string; engineIf: string; wireNetns: string };
    const relayPids = netnsPids(theirs.wireNetns);
    child.kill('SIGKILL');
    await exited(child);
    bed = await TestBed.up({ wire: true }); // reaps the dead bed first
    assert.ok(relayPids.length === 1 && !pidAlive(relayPids[0]), 'the old relay still runs');
    // The slot may have been reused at once; then only the new relay lives in its namespace.
    if (bed.wireNetns === theirs.wireNetns) {
      assert.ok(!netnsPids(theirs.wireNetns).includes(relayPids[0]));
    } else {
      assert.equal(netnsExists(theirs.wireNetns), false, `${theirs.wireNetns} was left`);
    }
  });

  it('on a bed without a wire, delay and direction say to use TestBed.up({ wire: true })', async () => {
    bed = await TestBed.up();
    await assert.rejects(bed.setNetem({ lossPct: 1, direction: 'toPeer' }), {
      code: 'ENOTSUP',
      message: /wire: true/,
    });
    await assert.rejects(bed.wireStats(), { code: 'ENOTSUP', message: /wire: true/ });
    try {
      await bed.setNetem({ delayMs: 5 });
    } catch (err) {
      // Only kernels without the netem qdisc (this project's VM) refuse it.
      assert.equal((err as { code: string }).code, 'ENOTSUP');
      assert.match((err as Error).message, /TestBed\.up\(\{ wire: true \}\)/);
    }
  });

  it('the engine echoes kernel TCP through delay 20 ms, 2% loss, reordering and duplication', async function () {
    this.timeout(180_000);
    bed = await TestBed.up({ wire: true });
    await bed.setNetem({ delayMs: 20, lossPct: 2, reorderPct: 10, duplicatePct: 2 });
    engine = await startEngineOnBed(bed, echoApp);
    const n = 3 * 1024 * 1024;
    const out = await runPeerPython(bed, PY_ECHO_SHA, [bed.engineIpv4, '7', String(n)], 150_000);
    assert.deepEqual(JSON.parse(out), { match: true, got: n });
    const stats = await bed.wireStats();
    for (const d of [stats.toPeer, stats.toEngine]) {
      assert.ok(d.dropped > 0 && d.reordered > 0 && d.duplicated > 0, JSON.stringify(stats));
      assert.equal(d.oversize, 0, JSON.stringify(stats));
    }
  });
});
