// TCP on the engine against the Linux kernel as the peer (test bed: veth + AF_XDP + netns), in
// both roles (kernel client -> engine server, engine client -> kernel server) and both families:
// 100 MB half-close transfers with SHA-256 digests computed independently at both ends, clean and
// through loss, delay, reordering and duplication; a connect to an address that never answers
// (ETIMEDOUT after the SYN retries); half-close; and the engine client's closing edges (close with
// unread data, SO_LINGER {1,0}, TIME-WAIT on the active closer), plus IPv6 runs of the kernel
// client edges that kernel-peer.test.ts covers over IPv4.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed, type NetemOptions, type TestBedOptions } from '../../ts/testbed/testbed.js';
import type { Engine, EngineOptions } from '../../ts/runtime/engine.js';
import { startEngineOnBed, stopEngineAndBed } from '../support/engine-on-bed.js';
import { peerRetransSegs, runPeerPython } from '../support/peer-namespace.js';
import {
  checkTransfer,
  PY_TRANSFER_CLIENT,
  PY_TRANSFER_SERVER,
  type TransferOutcome,
} from '../support/py-transfer.js';
import { readResult } from '../support/result-file.js';
import {
  type EdgeRun,
  scenarioApp,
  scenarioEnv,
  serverHoldsTimeWait,
  serverResets,
  serverSurvivesResetBeforeAccept,
  serverWritesPastClose,
} from './kernel-client-edges.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const transferApp = path.join(here, 'apps/transfer.js');
const edgesApp = path.join(here, 'apps/client-edges.js');
const MB = 1024 * 1024;

type Family = 'IPv4' | 'IPv6';
const FAMILIES: Family[] = ['IPv4', 'IPv6'];

// How the one-connection kernel servers below begin: a dual-stack listener on argv[1] says
// "ready" and accepts `c` from `addr`.
const PY_ACCEPT_ONE = `
import errno, socket, sys
l = socket.socket(socket.AF_INET6)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
l.bind(("::", int(sys.argv[1]))); l.listen(8); l.settimeout(30)
print("ready", flush=True)
c, addr = l.accept(); c.settimeout(20)
`;

// Kernel server that writes until the write fails; prints the errno name.
const PY_WRITE_UNTIL_ERROR = `${PY_ACCEPT_ONE}
chunk = b"z" * 65536; written = 0
try:
    while True:
        c.sendall(chunk); written += len(chunk)
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e)), written, flush=True)
`;

// Kernel server: reads one byte, answers 'r', then waits on recv(): prints what it gets (an
// errno name, EOF or DATA).
const PY_AWAIT_RESET = `${PY_ACCEPT_ONE}
assert c.recv(1) == b"x"
c.sendall(b"r")
try:
    b = c.recv(1)
    print("EOF" if not b else "DATA", flush=True)
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e)), flush=True)
`;

// Kernel server for the engine's active close: reads to EOF, closes, prints the client's port.
const PY_PASSIVE_CLOSE = `${PY_ACCEPT_ONE}
got = b""
while True:
    b = c.recv(64)
    if not b: break
    got += b
c.close()
print(got.decode(), addr[1], flush=True)
`;

// Kernel client: connects once; prints the errno name (or OK) and the seconds it took.
const PY_CONNECT_ERROR = `
import errno, socket, sys, time
t0 = time.monotonic()
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10).close()
    r = "OK"
except OSError as e:
    r = errno.errorcode.get(e.errno, str(e))
print(r, round(time.monotonic() - t0, 3))
`;

/**
 * Impairment profiles for the transfers. All but 'clean' run on a wire bed, whose userspace relay
 * impairs frames as netem would (this kernel has no netem). Sizes are what the kernel sends to the
 * engine and what the engine sends to the kernel, in either role.
 * - Loss and delay are separate profiles: with 2% loss and a 20 ms RTT, TCP's rate is bounded near
 *   MSS / RTT * 1.22 / sqrt(p) (Mathis et al. 1997), about 600 KB/s, so 100 MB would take minutes;
 *   the combined profile moves 4 MB each way instead.
 * - Under reordering the engine's sender relies on RACK's adaptive reordering window, D-SACK and
 *   undo (RFC 8985, RFC 2883, RFC 3522); it moves about 3 MB/s on this VM against the kernel's
 *   12 MB/s, so its 100 MB take about half a minute.
 */
interface Profile {
  name: string;
  netem: NetemOptions | null;
  toEngine: number;
  toKernel: number;
}

const PROFILES: Profile[] = [
  { name: 'clean', netem: null, toEngine: 100 * MB, toKernel: 100 * MB },
  { name: 'loss 2% both ways', netem: { lossPct: 2 }, toEngine: 100 * MB, toKernel: 100 * MB },
  {
    name: 'delay 20 ms (peer -> engine)',
    netem: { delayMs: 20, direction: 'toEngine' },
    toEngine: 100 * MB,
    toKernel: 100 * MB,
  },
  {
    name: 'reordering 10% and duplication 2% both ways (delay 5 ms)',
    netem: { delayMs: 5, reorderPct: 10, duplicatePct: 2 },
    toEngine: 100 * MB,
    toKernel: 100 * MB,
  },
  {
    name: 'loss 2% and delay 20 ms together',
    netem: { lossPct: 2, delayMs: 20, direction: 'toEngine' },
    toEngine: 4 * MB,
    toKernel: 4 * MB,
  },
];

describe('tcp-kernel: transfers and engine-client edges with the kernel as peer', function () {
  let bed: TestBed | undefined;
  let engine: Engine | undefined;
  let dir: string;
  let result: string;
  const servers: ChildProcess[] = [];

  async function up(opts: TestBedOptions = {}): Promise<TestBed> {
    bed = await TestBed.up(opts);
    return bed;
  }

  function addr(b: TestBed, family: Family, who: 'engine' | 'peer'): string {
    if (family === 'IPv4') return who === 'engine' ? b.engineIpv4 : b.peerIpv4;
    return who === 'engine' ? b.engineIpv6 : b.peerIpv6;
  }

  function target(b: TestBed, family: Family, port: number): string {
    const a = addr(b, family, 'peer');
    return family === 'IPv4' ? `${a}:${port}` : `[${a}]:${port}`;
  }

  async function start(
    b: TestBed,
    app: string,
    env: Record<string, string>,
    extra: Partial<EngineOptions> = {},
  ): Promise<Engine> {
    // Workers inherit the environment: nothing of an earlier test's settings may leak in.
    for (const k of Object.keys(process.env)) if (k.startsWith('XDPNET_B1_')) delete process.env[k];
    Object.assign(process.env, env);
    engine = await startEngineOnBed(b, app, extra);
    return engine;
  }

  /**
   * A Python server in the peer namespace; resolves once it printed "ready". `lines()` gives what
   * it printed after that, `exited` resolves with its exit code.
   */
  async function pyServer(
    script: string,
    args: string[],
  ): Promise<{ lines: () => string[]; exited: Promise<number | null>; stderr: () => string }> {
    assert.ok(bed);
    const child = bed.spawn(['python3', '-u', '-c', script, ...args]);
    servers.push(child);
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const end = Date.now() + 15000;
    while (!out.startsWith('ready\n') && child.exitCode === null && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(out.startsWith('ready\n'), `python server did not start: ${err}`);
    const lines = (): string[] =>
      out
        .split('\n')
        .slice(1)
        .filter((l) => l !== '');
    return { lines, exited, stderr: () => err };
  }

  async function linesOf(
    srv: { lines: () => string[]; stderr: () => string },
    n: number,
    ms: number,
  ): Promise<string[]> {
    const end = Date.now() + ms;
    while (srv.lines().length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.ok(
      srv.lines().length >= n,
      `server printed ${srv.lines().length}/${n}: ${srv.stderr()}`,
    );
    return srv.lines();
  }

  async function engineTcp(): Promise<Record<string, number>> {
    assert.ok(engine);
    const sum: Record<string, number> = {};
    for (const w of await engine.stats()) {
      for (const [k, v] of Object.entries(w.tcp)) sum[k] = (sum[k] ?? 0) + v;
    }
    return sum;
  }

  /** apps/transfer.ts as a server on `port`: reads each client to EOF, then answers `down` bytes. */
  function startTransferServer(b: TestBed, port: number, down: number): Promise<Engine> {
    return start(b, transferApp, {
      XDPNET_B1_MODE: 'server',
      XDPNET_B1_PORT: String(port),
      XDPNET_B1_UP: '0',
      XDPNET_B1_DOWN: String(down),
      XDPNET_B1_RESULT: result,
    });
  }

  /** apps/transfer.ts as a client of each of `targets` in turn, sending `up` bytes and half-closing. */
  function startTransferClient(
    b: TestBed,
    targets: string,
    up: number,
    res: string,
  ): Promise<Engine> {
    return start(b, transferApp, {
      XDPNET_B1_MODE: 'client',
      XDPNET_B1_TARGETS: targets,
      XDPNET_B1_UP: String(up),
      XDPNET_B1_DOWN: '0',
      XDPNET_B1_RESULT: res,
    });
  }

  /**
   * A kernel client sends `up` bytes to the engine server on `port` and reads its reply; checks
   * the exchange against the server's account of connection `i`.
   */
  async function kernelClientExchange(
    b: TestBed,
    family: Family,
    port: number,
    up: number,
    down: number,
    i: number,
    ms?: number,
  ): Promise<TransferOutcome> {
    const client = JSON.parse(
      await runPeerPython(
        b,
        PY_TRANSFER_CLIENT,
        [addr(b, family, 'engine'), String(port), String(up)],
        ms,
      ),
    ) as TransferOutcome;
    const server = await readResult<TransferOutcome>(`${result}-${i}.json`, 10000);
    checkTransfer(client, server, up, down);
    assert.equal(server.family, family);
    assert.equal(server.eofBeforeReply, true); // the reply came after the client's FIN
    return client;
  }

  /** Kernel client -> engine server; returns when both sides reported. */
  async function kernelToEngine(
    b: TestBed,
    family: Family,
    up: number,
    down: number,
    ms: number,
  ): Promise<TransferOutcome> {
    await startTransferServer(b, 7100, down);
    await readResult(`${result}-listening`, 10000).catch(() => undefined);
    return kernelClientExchange(b, family, 7100, up, down, 0, ms);
  }

  /** The engine client of apps/client-edges.ts in `scenario`, against a kernel server on `port`. */
  function startEdgesClient(
    b: TestBed,
    scenario: string,
    family: Family,
    port: number,
  ): Promise<Engine> {
    return start(b, edgesApp, {
      XDPNET_B1_SCENARIO: scenario,
      XDPNET_B1_TARGETS: target(b, family, port),
      XDPNET_B1_RESULT: result,
    });
  }

  /** Engine client -> kernel server. */
  async function engineToKernel(
    b: TestBed,
    family: Family,
    up: number,
    down: number,
    ms: number,
  ): Promise<TransferOutcome> {
    const srv = await pyServer(PY_TRANSFER_SERVER, ['9100', '1', String(down)]);
    await startTransferClient(b, target(b, family, 9100), up, result);
    const client = await readResult<TransferOutcome>(`${result}-0.json`, ms);
    const [line] = await linesOf(srv, 1, 10000);
    const server = JSON.parse(line) as TransferOutcome;
    checkTransfer(client, server, up, down);
    assert.equal(client.family, family);
    const peer = server.peer ?? '';
    assert.equal(peer.replace(/^::ffff:/, ''), addr(b, family, 'engine'));
    return client;
  }

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), 'b1-tcpk-'));
    result = path.join(dir, 'result');
  });

  afterEach(async function () {
    const stopping = { engine, bed, children: servers.splice(0), dir };
    engine = undefined;
    bed = undefined;
    await stopEngineAndBed(stopping);
  });

  /** Asserts that the profile's impairments really happened during the transfer. */
  async function checkImpaired(p: Profile, retrans: number, connectMs: number): Promise<void> {
    const n = p.netem;
    if (n === null) return;
    assert.ok(bed);
    const w = await bed.wireStats();
    const dirs = n.direction === 'toEngine' ? [w.toEngine] : [w.toEngine, w.toPeer];
    const brief = JSON.stringify(w);
    for (const d of dirs) {
      assert.ok(d.forwarded > 1000, brief);
      assert.equal(d.overflow + d.oversize + d.txErrors, 0, brief);
      if (n.lossPct) assert.ok(d.dropped > 0, brief);
      if (n.reorderPct) assert.ok(d.reordered > 0, brief);
      if (n.duplicatePct) assert.ok(d.duplicated > 0, brief);
    }
    // Loss is repaired by retransmission, on the peer (nstat) or the engine (its counters).
    if (n.lossPct) assert.ok(retrans > 0, 'nobody retransmitted');
    // The handshake took at least the added delay (one way toEngine: the SYN-ACK or the ACK).
    if (n.delayMs) assert.ok(connectMs >= n.delayMs, `connected in ${connectMs} ms`);
  }

  for (const p of PROFILES) {
    for (const family of FAMILIES) {
      for (const role of ['kernel client -> engine server', 'engine client -> kernel server']) {
        const sizes = `${p.toEngine / MB} MB to the engine, ${p.toKernel / MB} MB back`;
        it(`${p.name}: ${sizes}, ${role}, ${family}, SHA-256 at both ends`, async function () {
          this.timeout(240000);
          const b = await up({ wire: p.netem !== null });
          if (p.netem) await b.setNetem(p.netem);
          const peer0 = await peerRetransSegs(b);
          const ms = 200000;
          const client = role.startsWith('kernel')
            ? await kernelToEngine(b, family, p.toEngine, p.toKernel, ms)
            : await engineToKernel(b, family, p.toKernel, p.toEngine, ms);
          const retrans = (await engineTcp()).retransSegs + (await peerRetransSegs(b)) - peer0;
          await checkImpaired(p, retrans, client.connectMs ?? -1);
        });
      }
    }
  }

  it('half-close: the client shuts down writing and still gets the whole reply, both roles and families', async function () {
    this.timeout(60000);
    const b = await up();
    // Engine server: one kernel client per family.
    await startTransferServer(b, 7101, 3 * MB);
    for (const [i, family] of FAMILIES.entries()) {
      await kernelClientExchange(b, family, 7101, MB, 3 * MB, i);
    }
    const audit = await engine?.stop();
    engine = undefined;
    assert.ok(audit?.ok && audit.audited, audit?.problems.join('; '));
    // Engine client: one kernel server answering both families in turn.
    const srv = await pyServer(PY_TRANSFER_SERVER, ['9101', '2', String(3 * MB)]);
    const res2 = `${result}-client`;
    const targets = `${target(b, 'IPv4', 9101)},${target(b, 'IPv6', 9101)}`;
    await startTransferClient(b, targets, MB, res2);
    const lines = await linesOf(srv, 2, 30000);
    for (const [i, family] of FAMILIES.entries()) {
      const client = await readResult<TransferOutcome>(`${res2}-${i}.json`, 10000);
      checkTransfer(client, JSON.parse(lines[i]) as TransferOutcome, MB, 3 * MB);
      assert.equal(client.family, family);
    }
  });

  it('times out a connect to an address that never answers after 1 + synRetries SYNs (ETIMEDOUT), both families', async function () {
    this.timeout(60000);
    const b = await up();
    // Addresses inside the bed's own networks that nobody holds: the engine is told (a static
    // neighbour) that they sit behind the peer's MAC; the peer kernel, not forwarding, drops the
    // SYNs without an answer (no RST, no ICMP).
    const silent4 = b.peerIpv4.replace(/\.\d+$/, '.77');
    const silent6 = b.peerIpv6.replace(/:[0-9a-f]+$/, ':77');
    for (const argv of [
      ['sysctl', '-qw', 'net.ipv4.ip_forward=0'],
      ['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=0'],
    ]) {
      const r = await b.exec(argv);
      assert.equal(r.code, 0, r.stderr);
    }
    // Count the SYNs on the peer's end of the wire.
    const cap = b.spawn([
      'tshark',
      '-i',
      b.peerIf,
      '-n',
      '-l',
      '-f',
      `tcp and (dst host ${silent4} or dst host ${silent6})`,
      '-T',
      'fields',
      '-e',
      'ip.dst',
      '-e',
      'ipv6.dst',
      '-e',
      'tcp.flags.syn',
      '-a',
      'duration:14',
    ]);
    servers.push(cap);
    let capOut = '';
    let capErr = '';
    cap.stdout?.on('data', (d: Buffer) => (capOut += d.toString()));
    cap.stderr?.on('data', (d: Buffer) => (capErr += d.toString()));
    const capDone = new Promise<void>((r) => cap.on('exit', () => r()));
    const end = Date.now() + 15000;
    while (!capErr.includes('Capturing on') && cap.exitCode === null && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(capErr.includes('Capturing on'), `tshark did not start: ${capErr}`);
    const synRetries = 2;
    await start(
      b,
      edgesApp,
      {
        XDPNET_B1_SCENARIO: 'connect',
        XDPNET_B1_SYN_RETRIES: String(synRetries),
        XDPNET_B1_START_DELAY_MS: '1500', // after DAD (RFC 4862 5.4): the SYN goes at once
        XDPNET_B1_TARGETS: `${silent4}:9102,[${silent6}]:9102`,
        XDPNET_B1_RESULT: result,
      },
      {
        staticNeighbours: [
          { ip: silent4, mac: b.peerMac },
          { ip: silent6, mac: b.peerMac },
        ],
      },
    );
    // RFC 6298 2.1 / 5.5: SYNs at 0, 1 s and 3 s (initial RTO 1 s, doubling); the last one is
    // given its 4 s, so the connect fails at 7 s, as Linux with tcp_syn_retries = 2.
    for (const i of [0, 1]) {
      const r = await readResult<{ error: string; syscall: string; elapsedMs: number }>(
        `${result}-${i}.json`,
        15000,
      );
      assert.equal(r.error, 'ETIMEDOUT', JSON.stringify(r));
      assert.equal(r.syscall, 'connect', JSON.stringify(r));
      assert.ok(r.elapsedMs >= 6900 && r.elapsedMs < 8000, `failed after ${r.elapsedMs} ms`);
    }
    const tcp = await engineTcp();
    assert.equal(tcp.activeOpens, 2);
    assert.equal(tcp.attemptFails, 2);
    await capDone;
    const syns = capOut
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t'));
    const count = (dst: string): number =>
      syns.filter(([d4, d6, syn]) => (d4 === dst || d6 === dst) && syn === '1').length;
    assert.equal(count(silent4), 1 + synRetries, capOut);
    assert.equal(count(silent6), 1 + synRetries, capOut);
    assert.equal(syns.length, 2 * (1 + synRetries), `segments other than SYNs: ${capOut}`);
  });

  it('refuses at once: a connect to a closed port gets ECONNREFUSED, both roles and families', async function () {
    this.timeout(40000);
    const b = await up();
    await start(b, edgesApp, {
      XDPNET_B1_SCENARIO: 'connect',
      XDPNET_B1_SYN_RETRIES: '6',
      // Our IPv6 address stays tentative for DAD's 1 s (RFC 4862 5.4), which holds the SYN.
      XDPNET_B1_START_DELAY_MS: '1500',
      XDPNET_B1_TARGETS: `${target(b, 'IPv4', 9)},${target(b, 'IPv6', 9)}`,
      XDPNET_B1_RESULT: result,
    });
    for (const i of [0, 1]) {
      const r = await readResult<{ error: string; elapsedMs: number }>(
        `${result}-${i}.json`,
        10000,
      );
      assert.equal(r.error, 'ECONNREFUSED', JSON.stringify(r));
      assert.ok(r.elapsedMs < 900, `target ${i} refused after ${r.elapsedMs} ms: not at once`);
    }
    // The kernel as client: the engine answers a SYN to a port nobody listens on with RST.
    for (const family of FAMILIES) {
      const out = await runPeerPython(b, PY_CONNECT_ERROR, [addr(b, family, 'engine'), '9']);
      assert.equal(out.split(' ')[0], 'ECONNREFUSED', out);
      assert.ok(Number(out.split(' ')[1]) < 0.9, out);
    }
  });

  for (const family of FAMILIES) {
    it(`engine client closes with unread data while the kernel server writes: EPIPE or ECONNRESET there (${family})`, async function () {
      this.timeout(40000);
      const b = await up();
      const srv = await pyServer(PY_WRITE_UNTIL_ERROR, ['9103']);
      await startEdgesClient(b, 'close-early', family, 9103);
      const r = await readResult<{ error: string | null; got: number }>(`${result}-0.json`, 15000);
      assert.equal(r.error, null, JSON.stringify(r));
      assert.ok(r.got >= 65536, JSON.stringify(r));
      const [line] = await linesOf(srv, 1, 20000);
      const [code] = line.split(' ');
      assert.ok(['EPIPE', 'ECONNRESET'].includes(code), line);
      assert.ok((await engineTcp()).outRsts > 0, 'the engine sent no RST');
    });

    it(`engine client resetAndDestroy (SO_LINGER {1,0}): kernel server gets ECONNRESET, no TIME-WAIT here (${family})`, async function () {
      this.timeout(40000);
      const b = await up();
      const srv = await pyServer(PY_AWAIT_RESET, ['9104']);
      await startEdgesClient(b, 'reset', family, 9104);
      const [line] = await linesOf(srv, 1, 15000);
      assert.equal(line, 'ECONNRESET');
      const r = await readResult<Record<string, number>>(`${result}-0.json`, 10000);
      assert.deepEqual(r, { timeWait: 0, outRsts: 1, connections: 0 });
      assert.equal((await engine?.sockets())?.filter((s) => s.proto === 'tcp').length, 0);
    });

    it(`engine client as the active closer holds TIME-WAIT; the kernel server has none (${family})`, async function () {
      this.timeout(40000);
      const b = await up();
      const srv = await pyServer(PY_PASSIVE_CLOSE, ['9105']);
      await startEdgesClient(b, 'active-close', family, 9105);
      const [line] = await linesOf(srv, 1, 15000);
      const r = await readResult<{ error: null; localPort: number; timeWait: number }>(
        `${result}-0.json`,
        10000,
      );
      assert.equal(line, `x ${r.localPort}`);
      assert.equal(r.error, null);
      assert.equal(r.timeWait, 1, JSON.stringify(r));
      const mine = (await engine?.sockets())?.filter((s) => s.proto === 'tcp') ?? [];
      assert.deepEqual(
        mine.map((s) => [s.state, s.localPort, s.peerAddress, s.peerPort]),
        [['TIME-WAIT', r.localPort, addr(b, family, 'peer'), 9105]],
      );
      const ss = await b.exec(['ss', '-tanH', 'state', 'all', `( sport = :9105 )`]);
      assert.equal(ss.code, 0, ss.stderr);
      const tuple = ss.stdout.split('\n').filter((l) => l.includes(`:${r.localPort}`));
      assert.ok(
        tuple.every((l) => !/TIME-WAIT/.test(l)),
        `the kernel holds TIME-WAIT: ${ss.stdout}`,
      );
      assert.equal(tuple.length, 0, `the kernel still has the connection: ${ss.stdout}`);
    });
  }

  describe('kernel client edges over IPv6 (the IPv4 runs are in kernel-peer.test.ts)', function () {
    async function edgeRun(): Promise<EdgeRun> {
      const b = await up();
      const tkResult = path.join(dir, 'tk.json');
      const scenario = async (name: string): Promise<void> => {
        await start(b, scenarioApp, scenarioEnv(name, tkResult));
      };
      return { bed: b, engineAddress: b.engineIpv6, scenario, result: tkResult };
    }

    it('a server that keeps writing gets EPIPE or ECONNRESET once the client closed', async function () {
      this.timeout(40000);
      await serverWritesPastClose(await edgeRun());
    });

    it('resetAndDestroy: the kernel client gets ECONNRESET, no TIME-WAIT here', async function () {
      this.timeout(40000);
      await serverResets(await edgeRun());
    });

    it('the engine server as active closer holds TIME-WAIT; relisten needs SO_REUSEADDR', async function () {
      this.timeout(40000);
      await serverHoldsTimeWait(await edgeRun());
    });

    it('keeps accepting when IPv6 clients reset before accept', async function () {
      this.timeout(40000);
      await serverSurvivesResetBeforeAccept(await edgeRun());
    });
  });
});
