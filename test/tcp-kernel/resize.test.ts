// Changing the worker count of a running engine (Engine.resize) while the Linux kernel in the
// peer namespace opens 1,000 TCP connections and exchanges data on each: connections open at the
// change (handshakes included) stay with their worker, new ones go by the new table, a worker
// that leaves drains and stops, and one that joins takes over its rings. The SO_REUSEPORT
// failure this guards against shows as resets or failed connects; there must be none. Also:
// connected UDP sockets, handshakes and SYN cookies in flight (20 ms delay), bad counts, growth
// past the start count.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import type { Engine } from '../../ts/runtime/engine.js';
import { netstatCounters, sumCounters } from '../../ts/runtime/control-counters.js';
import { startEngineOnBed, stopEngineAndBed } from '../support/engine-on-bed.js';
import { peerTcpCounters, runPeerPython } from '../support/peer-namespace.js';
import { PY_MANY_ECHO } from '../support/py-many-echo.js';
import { PY_ECHO_CHURN } from '../support/py-echo-churn.js';
import { waitUntil } from '../support/wait-until.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const echoApp = path.join(here, '../../examples/tcp-echo.js');
const pingerApp = path.join(here, 'apps/udp-pinger.js');
const backlogApp = path.join(here, 'apps/backlog-echo.js');
const CONNECTIONS = 1000;

// A kernel UDP echo server on port argv[1]; says "ready", runs until killed.
const PY_UDP_ECHO_SERVER = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
print("ready", flush=True)
while True:
    data, addr = s.recvfrom(65535)
    s.sendto(data, addr)
`;

interface PingerReport {
  worker: number;
  sent: number;
  received: number;
}

interface Progress {
  opened: number;
  done: number;
}

interface ChurnResult extends Progress {
  connected: number;
  connectFailed: number;
  failed: number;
  sentBytes: number;
  echoedBytes: number;
  mismatches: number;
  kinds: Record<string, number>;
  seconds: number;
}

/** The client's progress as it prints it, and its result line once it ends. */
function follow(child: ChildProcess): { readonly latest: Progress; result: Promise<ChurnResult> } {
  let latest: Progress = { opened: 0, done: 0 };
  let buffered = '';
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const result = new Promise<ChurnResult>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      buffered += b.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffered.slice(0, nl)) as ChurnResult & { result?: boolean };
        buffered = buffered.slice(nl + 1);
        if (line.result) resolve(line);
        else latest = line;
      }
    });
    child.once('exit', (code) => reject(new Error(`client exited ${code}: ${stderr}`)));
  });
  return {
    get latest() {
      return latest;
    },
    result,
  };
}

/** PY_ECHO_CHURN in the peer namespace: `n` connections at `rate`/s to the engine's v4 and v6. */
function churn(bed: TestBed, n: number, rate: number, rounds: number, gapS: number): ChildProcess {
  const hosts = `${bed.engineIpv4},${bed.engineIpv6}`;
  const args = [hosts, '7', String(n), String(rate), String(rounds), String(gapS), '120'];
  return bed.spawn(['python3', '-u', '-c', PY_ECHO_CHURN, ...args]);
}

/** The peer kernel's reset and failed-connect counters (nstat, absolute). */
async function peerResets(bed: TestBed): Promise<Record<string, number>> {
  const all = JSON.parse(await peerTcpCounters(bed)) as Record<string, number>;
  const names = ['TcpOutRsts', 'TcpEstabResets', 'TcpAttemptFails', 'TcpExtTCPAbortOnData'];
  return Object.fromEntries(names.map((k) => [k, all[k] ?? 0]));
}

function minus(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(a).map((k) => [k, a[k] - (b[k] ?? 0)]));
}

describe('tcp-kernel: changing the worker count of a running engine', function () {
  let bed: TestBed | undefined;
  let engine: Engine | undefined;
  const children: ChildProcess[] = [];

  before(async function () {
    this.timeout(60000);
    bed = await TestBed.up();
  });

  // Every engine's frame audit must pass: the frames of a worker that stopped and of one that
  // never ran are accounted for too.
  afterEach(async function () {
    this.timeout(60000);
    const audit = await engine?.stop();
    engine = undefined;
    if (audit) assert.ok(audit.ok && audit.audited, audit.problems.join('; '));
  });

  after(async function () {
    this.timeout(60000);
    await stopEngineAndBed({ engine, bed, children });
  });

  it('refuses a bad count (EINVAL) and an engine that reads its queues itself (ENOTSUP)', async function () {
    this.timeout(60000);
    const direct = await startEngineOnBed(bed!, echoApp, { workers: 1 });
    engine = direct;
    assert.equal(direct.mode, 'xdp');
    await assert.rejects(direct.resize(2), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ENOTSUP');
      assert.match(err.message, /start it on a one-queue interface with softwareRss/i);
      return true;
    });
    await direct.stop();
    const e = await startEngineOnBed(bed!, echoApp, { workers: 2, softwareRss: true });
    engine = e;
    for (const bad of [0, 3, 1.5, NaN]) {
      await assert.rejects(e.resize(bad), { code: 'EINVAL' }, String(bad));
    }
    assert.deepEqual(e.workerStates, ['active', 'active']);
  });

  it('grows past its start count up to maxWorkers, onto rings no worker used yet', async function () {
    this.timeout(60000);
    const e = await startEngineOnBed(bed!, echoApp, { workers: 1, maxWorkers: 2 });
    engine = e;
    assert.equal(e.mode, 'dispatch', 'maxWorkers 2 puts one worker behind the dispatcher');
    assert.deepEqual(e.workerStates, ['active', 'stopped']);
    assert.deepEqual((await e.resize(2)).states, ['active', 'active']);
    const out = await runPeerPython(
      bed!,
      PY_MANY_ECHO,
      [bed!.engineIpv4, '7', '100', '0', '30'],
      45000,
    );
    const r = JSON.parse(out) as Record<string, number>;
    assert.deepEqual({ echoed: r.echoed, errors: r.errors }, { echoed: 100, errors: 0 });
    const opens = (await e.stats()).map((s) => s.tcp.passiveOpens);
    assert.ok(opens.length === 2 && opens.every((n) => n > 0), `accepted per worker: ${opens}`);
  });

  it('resizes 2 -> 1 -> 2 (and back and forth once more) with 0 resets, 0 failed connects and every byte echoed', async function () {
    this.timeout(180000);
    const b = bed!;
    const e = await startEngineOnBed(b, echoApp, { workers: 2, softwareRss: true });
    engine = e;
    assert.equal(e.mode, 'dispatch');
    const peerBefore = await peerResets(b);
    // 1,000 connections (IPv4 and IPv6 in turn) at 100/s, four rounds a quarter of a second apart: about 200 are open at
    // any time, in every state, when the worker count changes.
    const client = churn(b, CONNECTIONS, 100, 4, 0.25);
    children.push(client);
    const run = follow(client);
    run.result.catch(() => undefined); // awaited below; a failure before then shows there
    const opened = (n: number) => () => Promise.resolve(run.latest.opened >= n);
    const states = () => Promise.resolve(JSON.stringify(e.workerStates));

    await waitUntil('300 connections opened', opened(300), undefined, 30000);
    const down = await e.resize(1);
    assert.equal(e.workers, 1);
    assert.deepEqual(down.states, ['active', 'draining']);
    assert.ok(down.pinned > 0, 'the connections open on worker 1 were pinned there');
    // Worker 1 serves its connections to their end, then stops.
    await waitUntil('worker 1 drained', async () => e.workerStates[1] === 'stopped', states, 30000);

    await waitUntil('550 connections opened', opened(550), undefined, 30000);
    const up = await e.resize(2);
    assert.deepEqual(up.states, ['active', 'active'], 'a new worker 1 took over its rings');
    const acceptedBy1 = async (): Promise<number> =>
      (await e.stats()).find((s) => s.workerId === 1)!.tcp.passiveOpens;
    const acceptedAtGrowth = await acceptedBy1();

    await waitUntil('800 connections opened', opened(800), undefined, 30000);
    // Once more, back to back: worker 1 drains and is taken back before its flows have closed.
    assert.deepEqual((await e.resize(1)).states, ['active', 'draining']);
    assert.deepEqual((await e.resize(2)).states, ['active', 'active']);

    const r = await run.result;
    assert.deepEqual(
      {
        connected: r.connected,
        connectFailed: r.connectFailed,
        done: r.done,
        failed: r.failed,
        mismatches: r.mismatches,
        kinds: r.kinds,
      },
      {
        connected: CONNECTIONS,
        connectFailed: 0,
        done: CONNECTIONS,
        failed: 0,
        mismatches: 0,
        kinds: {},
      },
    );
    assert.equal(r.echoedBytes, r.sentBytes);
    assert.ok(r.sentBytes > CONNECTIONS * 4 * 200);

    const stats = await e.stats();
    const tcp = sumCounters(stats.map(netstatCounters)).Tcp;
    assert.deepEqual(
      { OutRsts: tcp.OutRsts, EstabResets: tcp.EstabResets, AttemptFails: tcp.AttemptFails },
      { OutRsts: 0, EstabResets: 0, AttemptFails: 0 },
      'the engine reset nothing',
    );
    assert.equal(tcp.PassiveOpens, CONNECTIONS);
    assert.deepEqual(
      minus(await peerResets(b), peerBefore),
      { TcpOutRsts: 0, TcpEstabResets: 0, TcpAttemptFails: 0, TcpExtTCPAbortOnData: 0 },
      'the kernel saw no reset and sent none',
    );
    // The worker that joined took a share of the new connections.
    assert.ok((await acceptedBy1()) > acceptedAtGrowth, 'worker 1 accepted connections again');
    process.stdout.write(
      `      ${r.seconds} s; ${down.pinned} pinned at 2 -> 1; new-flow segments left to ` +
        `their owner: ${tcp.NewFlowsNotOwned}; cookies sent: ${tcp.SyncookiesSent}\n`,
    );
    // Every connection has closed: no pin is left.
    await waitUntil(
      'the pins of closed connections to be dropped',
      async () => e.pinnedFlows === 0,
      async () => `${e.pinnedFlows} pins`,
    );
  });

  it('keeps a connected UDP socket on its worker through 2 -> 1 -> 2: every echo comes back', async function () {
    this.timeout(90000);
    const b = bed!;
    const server = b.spawn(['python3', '-u', '-c', PY_UDP_ECHO_SERVER, '9009']);
    children.push(server);
    await new Promise<void>((resolve, reject) => {
      server.stdout!.once('data', () => resolve());
      server.once('exit', (code) => reject(new Error(`UDP echo server exited ${code}`)));
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'resize-udp-'));
    const count = 400;
    const result = path.join(dir, 'pinger');
    Object.assign(process.env, {
      XDPNET_UP_TARGET: `${b.peerIpv4}:9009`,
      XDPNET_UP_COUNT: String(count),
      XDPNET_UP_RESULT: result,
    });
    try {
      engine = await startEngineOnBed(b, pingerApp, { workers: 2, softwareRss: true });
    } finally {
      for (const k of ['XDPNET_UP_TARGET', 'XDPNET_UP_COUNT', 'XDPNET_UP_RESULT']) {
        delete process.env[k];
      }
    }
    const e = engine;
    const read = (w: number): PingerReport =>
      existsSync(`${result}.${w}`)
        ? (JSON.parse(readFileSync(`${result}.${w}`, 'utf8')) as PingerReport)
        : { worker: w, sent: 0, received: 0 };
    const reports = () => Promise.resolve(JSON.stringify([read(0), read(1)]));
    try {
      await waitUntil(
        'echoes on both workers',
        async () => read(0).received > 20 && read(1).received > 20,
        reports,
        30000,
      );
      const down = await e.resize(1);
      assert.ok(down.pinned >= 1, 'worker 1 connected socket was pinned');
      const before = read(1).received;
      await waitUntil(
        "worker 1's echoes to keep coming",
        async () => read(1).received >= before + 50,
        reports,
        30000,
      );
      assert.equal(e.workerStates[1], 'draining', 'its socket is open: worker 1 still runs');
      assert.deepEqual((await e.resize(2)).states, ['active', 'active']);
      await waitUntil(
        'every datagram sent and echoed',
        async () => [0, 1].every((w) => read(w).sent === count && read(w).received === count),
        reports,
        30000,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps half-open connections and SYN cookies in flight through 2 -> 1 -> 2 (20 ms to the engine, a SYN queue of 1)', async function () {
    this.timeout(180000);
    const n = 400;
    // Every handshake takes 20 ms or more (a bed whose relay delays each frame: this kernel has
    // no netem) and the SYN queue holds one: at each change many connections are SYN-RECEIVED
    // (pinned) or have a cookie SYN-ACK out (accepted wherever the ACK lands, with the shared
    // secret).
    const b = await TestBed.up({ wire: true });
    try {
      await b.setNetem({ delayMs: 20 });
      // A backlog of 1: the SYN queue overflows into cookies and the app's accept queue
      // overflows too, so cookie ACKs meet a full accept queue (test/tcp-stack/
      // syn-cookie-overflow.test.ts has that case step by step).
      process.env.XDPNET_ECHO_BACKLOG = '1';
      try {
        engine = await startEngineOnBed(b, backlogApp, { workers: 2, softwareRss: true });
      } finally {
        delete process.env.XDPNET_ECHO_BACKLOG;
      }
      const e = engine;
      const peerBefore = await peerResets(b);
      const client = churn(b, n, 100, 3, 0.1);
      children.push(client);
      const run = follow(client);
      run.result.catch(() => undefined);
      const opened = (k: number) => () => Promise.resolve(run.latest.opened >= k);
      await waitUntil('100 connections opened', opened(100), undefined, 30000);
      assert.deepEqual((await e.resize(1)).states, ['active', 'draining']);
      await waitUntil('250 connections opened', opened(250), undefined, 30000);
      assert.deepEqual((await e.resize(2)).states, ['active', 'active']);
      const r = await run.result;
      const tcp = sumCounters((await e.stats()).map(netstatCounters)).Tcp;
      assert.deepEqual(
        { connectFailed: r.connectFailed, done: r.done, failed: r.failed, kinds: r.kinds },
        { connectFailed: 0, done: n, failed: 0, kinds: {} },
        `engine: ${JSON.stringify(tcp)}; peer: ${JSON.stringify(minus(await peerResets(b), peerBefore))}`,
      );
      assert.equal(r.echoedBytes, r.sentBytes);
      process.stdout.write(
        `      ${r.seconds} s; cookies ${tcp.SyncookiesSent} sent, ${tcp.SyncookiesRecv} back; ` +
          `new-flow segments left to their owner: ${tcp.NewFlowsNotOwned}\n`,
      );
      assert.ok(
        tcp.SyncookiesRecv > 0,
        `cookies: ${tcp.SyncookiesSent} sent, ${tcp.SyncookiesRecv} back`,
      );
      assert.deepEqual(
        {
          OutRsts: tcp.OutRsts,
          EstabResets: tcp.EstabResets,
          SyncookiesFailed: tcp.SyncookiesFailed,
        },
        { OutRsts: 0, EstabResets: 0, SyncookiesFailed: 0 },
      );
      assert.deepEqual(minus(await peerResets(b), peerBefore), {
        TcpOutRsts: 0,
        TcpEstabResets: 0,
        TcpAttemptFails: 0,
        TcpExtTCPAbortOnData: 0,
      });
      const audit = await e.stop();
      engine = undefined;
      assert.ok(audit.ok && audit.audited, audit.problems.join('; '));
    } finally {
      await engine?.stop();
      engine = undefined;
      await b.down();
    }
  });
});
