// `xdpnet ss` and `xdpnet netstat -s` against a running engine (test bed, kernel peer): the
// engine serves TCP and UDP echo on port 7; the peer keeps 3 connections open, closes 2 and
// sends UDP datagrams; the CLI, run as a child process through the engine's control socket,
// must list what the peer's own `ss` shows (reversed) and count what the peer sent.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { TestBed } from '../../ts/testbed/testbed.js';
import { Engine } from '../../ts/runtime/engine.js';
import type { SocketEntry } from '../../ts/runtime/socket-report.js';
import { netstatCounters, sumCounters } from '../../ts/runtime/control-counters.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const app = path.join(here, 'apps/echo-both.js');
const cli = path.join(here, '../../../bin/xdpnet.js');
const OPEN = 3;
const CLOSED = 2;
const DATAGRAMS = 4;

// Peer: OPEN + CLOSED echo round trips on TCP, closes CLOSED of them, DATAGRAMS UDP round trips;
// prints the kept connections' local ports as JSON and waits for stdin to close.
const PY_PEER = `
import json, socket, sys
host = sys.argv[1]; n_open, n_closed, n_dgram = map(int, sys.argv[2:5])
conns = []
for i in range(n_open + n_closed):
    s = socket.create_connection((host, 7), timeout=20)
    s.sendall(b"hello"); got = b""
    while len(got) < 5: got += s.recv(100)
    conns.append(s)
for s in conns[n_open:]:
    s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(20)
for i in range(n_dgram):
    u.sendto(b"ping%d" % i, (host, 7)); u.recvfrom(100)
print(json.dumps([s.getsockname()[1] for s in conns[:n_open]]), flush=True)
sys.stdin.read()
`;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function xdpnet(args: string[], runDir: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { env: { ...process.env, XDPNET_RUN_DIR: runDir }, timeout: 30000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('introspection: xdpnet ss / netstat -s on a running engine', function () {
  let bed: TestBed;
  let engine: Engine | undefined;
  let peer: ChildProcess | undefined;
  let runDir: string;
  let keptPorts: number[];
  const savedRunDir = process.env.XDPNET_RUN_DIR;

  before(async function () {
    runDir = mkdtempSync(path.join(tmpdir(), 'h18-run-'));
    process.env.XDPNET_RUN_DIR = runDir;
    bed = await TestBed.up();
    engine = await Engine.start({
      ifname: bed.engineIf,
      ipv4: [`${bed.engineIpv4}/${bed.ipv4Prefix}`],
      ipv6: [`${bed.engineIpv6}/${bed.ipv6Prefix}`],
      app,
      workers: 2,
    });
    peer = bed.spawn([
      'python3',
      '-u',
      '-c',
      PY_PEER,
      bed.engineIpv4,
      String(OPEN),
      String(CLOSED),
      String(DATAGRAMS),
    ]);
    const lines = createInterface({ input: peer.stdout! });
    let stderr = '';
    peer.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    keptPorts = await new Promise<number[]>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`peer gave no ports: ${stderr}`)), 60000);
      lines.once('line', (l) => {
        clearTimeout(t);
        resolve(JSON.parse(l) as number[]);
      });
      peer!.once('exit', (code) => reject(new Error(`peer exited ${code}: ${stderr}`)));
    });
    // The closed connections' last ACK reaches the engine's LAST-ACK sockets.
    const end = Date.now() + 10000;
    while (Date.now() < end) {
      const tcp = (await engine.sockets()).filter((s) => s.proto === 'tcp' && s.peerPort !== 0);
      if (tcp.length === OPEN) break;
      await sleep(100);
    }
  });

  after(async function () {
    try {
      peer?.stdin?.end();
      const audit = await engine?.stop();
      if (audit) assert.ok(audit.ok, audit.problems.join('; '));
      if (engine?.controlPath) assert.ok(!existsSync(engine.controlPath), 'control socket left');
    } finally {
      engine = undefined;
      await bed?.down();
      rmSync(runDir, { recursive: true, force: true });
      if (savedRunDir === undefined) delete process.env.XDPNET_RUN_DIR;
      else process.env.XDPNET_RUN_DIR = savedRunDir;
    }
  });

  it('puts its control socket under the run directory', function () {
    assert.equal(engine!.controlPath, path.join(runDir, `engine-${process.pid}.sock`));
    assert.ok(existsSync(engine!.controlPath!));
  });

  it('ss lists the listeners and the established connections the peer sees, reversed', async function () {
    const r = await xdpnet(['ss', '--json'], runDir);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as SocketEntry[];
    // One TCP listener per worker (SO_REUSEPORT semantics), dual-stack; UDP on both families.
    const listen = list.filter((s) => s.state === 'LISTEN');
    assert.deepEqual(listen.map((s) => s.worker).sort(), [0, 1]);
    for (const l of listen) assert.equal(l.localPort, 7);
    const udp = list.filter((s) => s.proto === 'udp');
    assert.equal(udp.length, 4, JSON.stringify(udp)); // udp4 + udp6 per worker
    for (const u of udp) assert.equal(u.state, 'UNCONN');

    const established = list.filter((s) => s.proto === 'tcp' && s.state === 'ESTAB');
    const ours = established.map(
      (s) => `${s.localAddress}:${s.localPort} ${s.peerAddress}:${s.peerPort}`,
    );
    const peerSs = await bed.exec(['ss', '-tnH', 'state', 'established']);
    assert.equal(peerSs.code, 0, peerSs.stderr);
    const theirs = peerSs.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .map((f) => `${f[3]} ${f[2]}`); // Recv-Q Send-Q Local Peer: the peer's view reversed
    assert.deepEqual(ours.sort(), theirs.sort());
    assert.deepEqual(established.map((s) => s.peerPort).sort(), [...keptPorts].sort());
    // Every byte was echoed and acknowledged: the queues are empty.
    for (const s of established) assert.deepEqual([s.recvQ, s.sendQ], [0, 0]);
    // Nothing else: the two closed connections are gone from the engine.
    assert.equal(list.filter((s) => s.proto === 'tcp').length, 2 + OPEN);
  });

  it('ss prints a header and one line per socket, and filters by state, port and protocol', async function () {
    const all = await xdpnet(['ss'], runDir);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trimEnd().split('\n');
    assert.match(
      lines[0],
      /^Netid\s+State\s+Recv-Q\s+Send-Q\s+Local Address:Port\s+Peer Address:Port\s+Process$/,
    );
    assert.equal(lines.length, 1 + 2 + OPEN + 4);
    const estabLine = lines.find((l) => l.includes(`${bed.peerIpv4}:${keptPorts[0]}`));
    assert.match(estabLine!, new RegExp(`^tcp\\s+ESTAB\\s+0\\s+0\\s+${bed.engineIpv4}:7\\s+`));
    assert.match(estabLine!, /worker:[01]/);
    assert.match(
      lines.find((l) => l.includes('LISTEN'))!,
      /^tcp\s+LISTEN\s+0\s+\d+\s+\*:7\s+\*:\*\s+worker:[01]$/,
    );

    const est = await xdpnet(['ss', '--state', 'established', '-t'], runDir);
    assert.equal(est.code, 0, est.stderr);
    const estLines = est.stdout.trimEnd().split('\n').slice(1);
    assert.equal(estLines.length, OPEN);
    for (const l of estLines) assert.match(l, /^tcp\s+ESTAB\s/);

    const byPort = await xdpnet(['ss', '--port', String(keptPorts[1])], runDir);
    const portLines = byPort.stdout.trimEnd().split('\n').slice(1);
    assert.equal(portLines.length, 1);
    assert.ok(portLines[0].includes(`${bed.peerIpv4}:${keptPorts[1]}`));

    const port7 = await xdpnet(['ss', '--port', '7', '--json'], runDir);
    assert.equal((JSON.parse(port7.stdout) as SocketEntry[]).length, 2 + OPEN + 4);
    const udpOnly = await xdpnet(['ss', '--json', '-u'], runDir);
    const u = JSON.parse(udpOnly.stdout) as SocketEntry[];
    assert.equal(u.length, 4);
    assert.ok(u.every((s) => s.proto === 'udp'));
    const listenOnly = await xdpnet(['ss', '--state', 'listen', '--json'], runDir);
    assert.equal((JSON.parse(listenOnly.stdout) as SocketEntry[]).length, 2);

    // A bad value is a usage error: exit 2, before the engine is asked anything.
    const bad = await xdpnet(['ss', '--state', 'bogus'], runDir);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--state: unknown state BOGUS/);
  });

  it('netstat -s counts the traffic the peer generated, summed and per worker', async function () {
    const r = await xdpnet(['netstat', '-s', '--json'], runDir);
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout) as {
      total: Record<string, Record<string, number>>;
      workers: { worker: number; Tcp: Record<string, number>; TcpExt: Record<string, number> }[];
    };
    const { Tcp, Udp, Ip, Device } = got.total;
    assert.equal(Tcp.PassiveOpens, OPEN + CLOSED);
    assert.equal(Tcp.ActiveOpens, 0);
    assert.equal(Tcp.CurrEstab, OPEN);
    assert.equal(Tcp.AttemptFails, 0);
    assert.equal(Tcp.EstabResets, 0);
    assert.ok(Tcp.InSegs >= (OPEN + CLOSED) * 3, `InSegs ${Tcp.InSegs}`);
    assert.ok(Tcp.OutSegs >= (OPEN + CLOSED) * 2, `OutSegs ${Tcp.OutSegs}`);
    assert.equal(Udp.InDatagrams, DATAGRAMS);
    assert.equal(Udp.OutDatagrams, DATAGRAMS);
    assert.equal(Udp.NoPorts, 0);
    assert.ok(Ip.InDelivers >= Tcp.InSegs + Udp.InDatagrams);
    assert.ok(Device.RxFrames >= Ip.InDelivers);
    assert.equal(got.workers.length, 2);
    assert.equal(
      got.workers.reduce((n, w) => n + w.Tcp.PassiveOpens, 0),
      Tcp.PassiveOpens,
    );
    // /proc/net/netstat's TcpExt names; a clean veth loses nothing, so nothing timed out or
    // needed recovery, summed over workers as the other sections are.
    const { TcpExt } = got.total;
    const names = ['TCPLossProbes', 'TCPLossProbeRecovery', 'TCPSackRecovery', 'TCPRenoRecovery'];
    // RFC 5961's counters too; nothing on the bed was blind, so no challenge ACK went out.
    const rfc5961 = ['TCPChallengeACK', 'TCPSYNChallenge', 'TCPACKSkippedChallenge'];
    for (const k of [...names, 'TCPTimeouts', ...rfc5961]) {
      assert.equal(typeof TcpExt[k], 'number', k);
    }
    assert.equal(TcpExt.TCPTimeouts, 0);
    for (const k of rfc5961) assert.equal(TcpExt[k], 0, k);
    assert.equal(TcpExt.TCPSackRecovery + TcpExt.TCPRenoRecovery, 0);
    for (const k of Object.keys(TcpExt)) {
      assert.equal(
        got.workers.reduce((n, w) => n + w.TcpExt[k], 0),
        TcpExt[k],
        k,
      );
    }

    const text = await xdpnet(['netstat', '-s', '--per-worker'], runDir);
    assert.equal(text.code, 0, text.stderr);
    for (const sec of [
      'Ip:',
      'Icmp:',
      'Tcp:',
      'TcpExt:',
      'Udp:',
      'Device:',
      'Worker 0:',
      'Worker 1:',
    ]) {
      assert.ok(text.stdout.includes(`${sec}\n`), `no ${sec} in\n${text.stdout}`);
    }
    assert.match(
      text.stdout,
      new RegExp(`^Tcp:\\n(    \\w+: \\d+\\n)*    PassiveOpens: ${OPEN + CLOSED}\\n`, 'm'),
    );
    assert.match(text.stdout, new RegExp(`^    InDatagrams: ${DATAGRAMS}$`, 'm'));
    assert.match(text.stdout, /^TcpExt:\n( {4}\w+: \d+\n)* {4}TCPTimeouts: 0\n/m);
  });

  it('engine.sockets() and engine.stats() give the same data in-process', async function () {
    const list = await engine!.sockets();
    const viaCli = JSON.parse((await xdpnet(['ss', '--json'], runDir)).stdout) as SocketEntry[];
    const key = (s: SocketEntry): string =>
      `${s.proto} ${s.state} ${s.localAddress}:${s.localPort} ${s.peerAddress}:${s.peerPort} ${s.worker}`;
    assert.deepEqual(list.map(key).sort(), viaCli.map(key).sort());
    const total = sumCounters((await engine!.stats()).map(netstatCounters));
    assert.equal(total.Tcp.PassiveOpens, OPEN + CLOSED);
    assert.equal(total.Udp.InDatagrams, DATAGRAMS);
    assert.equal(total.TcpExt.TCPTimeouts, 0);
  });

  it('xdpnet workers shows the worker count and changes it; open connections keep their worker', async function () {
    const pid = ['--pid', String(process.pid)];
    const established = async (): Promise<string[]> =>
      (await engine!.sockets())
        .filter((e) => e.proto === 'tcp' && e.state === 'ESTAB')
        .map((e) => `${e.peerPort}@${e.worker}`)
        .sort();
    const before = await established();
    assert.equal(before.length, OPEN);
    const shown = await xdpnet(['workers', ...pid, '--json'], runDir);
    assert.equal(shown.code, 0, shown.stderr);
    assert.deepEqual(JSON.parse(shown.stdout), {
      pid: process.pid,
      workers: 2,
      maxWorkers: 2,
      states: ['active', 'active'],
      mode: 'dispatch',
    });
    const down = await xdpnet(['workers', '1', ...pid], runDir);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /^workers: 1 \(max 2\), \d+ open flows pinned to their worker\n/);
    assert.match(down.stdout, /^ {2}worker 1: draining$/m);
    assert.equal(engine!.workers, 1);
    assert.deepEqual(await established(), before, 'each connection is still on its worker');
    const tooMany = await xdpnet(['workers', '3', ...pid], runDir);
    assert.equal(tooMany.code, 1);
    assert.match(tooMany.stderr, /EINVAL: workers must be an integer from 1 to 2 \(this engine's/);
    const up = await xdpnet(['workers', '2', ...pid, '--json'], runDir);
    assert.equal(up.code, 0, up.stderr);
    assert.deepEqual((JSON.parse(up.stdout) as { states: string[] }).states, ['active', 'active']);
    assert.deepEqual(await established(), before);
  });

  it('finds the only engine without --pid, and says so when there is none or several', async function () {
    const info = await xdpnet(
      ['ss', '--pid', String(process.pid), '-t', '--state', 'listen'],
      runDir,
    );
    assert.equal(info.code, 0, info.stderr);
    const empty = mkdtempSync(path.join(tmpdir(), 'h18-none-'));
    try {
      const none = await xdpnet(['ss'], empty);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /ENOENT: no running xdpnet engine/);
      // A second live process with a socket file (pid 1 always runs): ambiguous.
      writeFileSync(path.join(runDir, 'engine-1.sock'), '');
      const several = await xdpnet(['netstat', '-s'], runDir);
      assert.equal(several.code, 1);
      assert.match(
        several.stderr,
        /ENOTUNIQ: 2 xdpnet engines run \(pids 1, \d+\); pick one with --pid/,
      );
      const chosen = await xdpnet(['netstat', '-s', '--pid', String(process.pid)], runDir);
      assert.equal(chosen.code, 0, chosen.stderr);
    } finally {
      rmSync(empty, { recursive: true, force: true });
      rmSync(path.join(runDir, 'engine-1.sock'), { force: true });
    }
  });
});
