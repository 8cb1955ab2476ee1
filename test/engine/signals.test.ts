// SIGTERM and SIGINT run the graceful stop (test bed, kernel peer). `xdpnet run` on the TCP echo
// example, and an Engine started by a user's own script, each run as a child process; a Python
// client in the peer namespace holds an echo connection open; on the signal the peer must read
// EOF (our FIN, not a reset and not its own timeout), the CLI must print its counters, the
// process must exit with 128 + the signal's number, and the bed the process made must be gone.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '../../../bin/xdpnet.js');
const echoApp = path.join(here, '../../examples/tcp-echo.js');
const engineModule = pathToFileURL(path.join(here, '../../ts/runtime/engine.js')).href;
const testbedModule = pathToFileURL(path.join(here, '../../ts/testbed/testbed.js')).href;

// Peer: one echo round trip, then "ready"; then it waits (bounded) for the engine's side to
// end: "eof" when recv returns b'' (a FIN), "reset" on ECONNRESET, "timeout" if nothing came.
const PY_PEER = `
import socket, sys
s = socket.create_connection((sys.argv[1], 7), timeout=20)
s.sendall(b"hello"); got = b""
while len(got) < 5: got += s.recv(100)
print("ready", flush=True)
s.settimeout(15)
try:
    print("eof" if s.recv(100) == b"" else "data", flush=True)
except ConnectionResetError:
    print("reset", flush=True)
except socket.timeout:
    print("timeout", flush=True)
`;

// Peer for an app that never reads: sends bytes, says "ready", then waits for the engine's side
// to end, as PY_PEER does.
const PY_UNREAD_PEER = `
import socket, sys, time
s = socket.create_connection((sys.argv[1], 7), timeout=20)
s.sendall(b"never read")
time.sleep(0.3)
print("ready", flush=True)
s.settimeout(15)
try:
    print("eof" if s.recv(100) == b"" else "data", flush=True)
except ConnectionResetError:
    print("reset", flush=True)
except socket.timeout:
    print("timeout", flush=True)
`;

// A user's script: a bed and an Engine with the echo app, its bed as JSON on stdout; nothing
// of its own on SIGINT/SIGTERM.
const USER_SCRIPT = `
import { Engine } from ${JSON.stringify(engineModule)};
import { TestBed } from ${JSON.stringify(testbedModule)};
const bed = await TestBed.up();
await Engine.start({
  ifname: bed.engineIf,
  ipv4: [bed.engineIpv4 + '/' + bed.ipv4Prefix],
  app: ${JSON.stringify(echoApp)},
  workers: 1,
  control: false,
});
process.stdout.write(JSON.stringify(bed.toJSON()) + '\\n');
`;

interface Bed {
  name: string;
  netns: string;
  peerIf: string;
  engineIf: string;
  engineIpv4: string;
}

interface Run {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A user's script as USER_SCRIPT, with `app` instead of the echo example. */
function userScript(app: string): string {
  return USER_SCRIPT.replace(JSON.stringify(echoApp), JSON.stringify(app));
}

function start(args: string[]): Run {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stderr: () => stderr, exited };
}

function firstLine(child: ChildProcess, what: string, ms: number, stderr: () => string) {
  const lines = createInterface({ input: child.stdout! });
  return new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no line in ${ms} ms: ${stderr()}`)), ms);
    lines.once('line', (l) => {
      clearTimeout(t);
      resolve(l);
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${what} exited ${code}: ${stderr()}`));
    });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref(),
    ),
  ]);
}

function linkExists(ifname: string): boolean {
  return existsSync(`/sys/class/net/${ifname}`);
}

/** Starts `run`, connects the peer, sends `signal`; returns what the peer saw and the exit. */
async function signalDuringConnection(
  run: Run,
  signal: NodeJS.Signals,
  children: ChildProcess[],
  peerScript = PY_PEER,
) {
  children.push(run.child);
  const bed = JSON.parse(await firstLine(run.child, 'engine', 60000, run.stderr)) as Bed;
  const peer = spawn(
    'ip',
    ['netns', 'exec', bed.netns, 'python3', '-u', '-c', peerScript, bed.engineIpv4],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(peer);
  let peerErr = '';
  peer.stderr!.on('data', (b: Buffer) => (peerErr += b.toString()));
  const peerLines = createInterface({ input: peer.stdout! });
  const seen: string[] = [];
  const peerDone = new Promise<void>((resolve) => peer.once('exit', () => resolve()));
  peerLines.on('line', (l) => seen.push(l));
  const deadline = Date.now() + 30000;
  while (!seen.includes('ready') && Date.now() < deadline && peer.exitCode === null) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(seen, ['ready'], `peer: ${peerErr}`);
  run.child.kill(signal);
  const exit = await withTimeout(run.exited, 30000, 'graceful stop');
  await withTimeout(peerDone, 20000, 'peer');
  return { bed, exit, peerSaw: seen[1] };
}

describe('engine: SIGINT/SIGTERM run the graceful stop', function () {
  this.timeout(120000);
  const children: ChildProcess[] = [];
  let dir: string | undefined;

  afterEach(function () {
    for (const c of children.splice(0))
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('xdpnet run: SIGTERM sends the FIN, prints the counters, exits 143, removes the bed', async () => {
    const run = start([cli, 'run', echoApp]);
    const { bed, exit, peerSaw } = await signalDuringConnection(run, 'SIGTERM', children);
    assert.equal(peerSaw, 'eof', `the peer must read our FIN; engine: ${run.stderr()}`);
    assert.deepEqual(exit, { code: 143, signal: null }, run.stderr());
    const stats = run
      .stderr()
      .split('\n')
      .find((l) => l.startsWith('[{'));
    assert.ok(stats, `no counters printed: ${run.stderr()}`);
    const workers = JSON.parse(stats) as { tcp: Record<string, number> }[];
    assert.equal(
      workers.reduce((n, w) => n + w.tcp.passiveOpens, 0),
      1,
      'the counters are those of the run: one passive open',
    );
    assert.match(run.stderr(), /stopping \(SIGTERM\)/);
    assert.equal(linkExists(bed.engineIf), false, 'the bed must be removed');
    const ns = execFileSync('ip', ['netns', 'list']).toString();
    assert.ok(!ns.includes(bed.netns), `namespace ${bed.netns} left behind`);
  });

  it('a second signal exits at once, without waiting for the graceful stop', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'xdpnet-signals-'));
    const script = path.join(dir, 'user.mjs');
    writeFileSync(script, USER_SCRIPT);
    const run = start([script]);
    children.push(run.child);
    const bed = JSON.parse(await firstLine(run.child, 'engine', 60000, run.stderr)) as Bed;
    const peer = spawn(
      'ip',
      ['netns', 'exec', bed.netns, 'python3', '-u', '-c', PY_PEER, bed.engineIpv4],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.push(peer);
    assert.equal(await firstLine(peer, 'peer', 30000, () => ''), 'ready');
    // The peer goes silent: our FIN is never acknowledged, so the graceful stop would wait out
    // its grace period (1 s per worker stop) before it ended.
    execFileSync('ip', ['netns', 'exec', bed.netns, 'ip', 'link', 'set', bed.peerIf, 'down']);
    run.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(run.child.exitCode, null, 'still in the graceful stop');
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const exit = await withTimeout(run.exited, 10000, 'forced exit');
    assert.ok(Date.now() - t0 < 700, `forced exit took ${Date.now() - t0} ms`);
    assert.deepEqual(exit, { code: 130, signal: null }, run.stderr());
    assert.match(run.stderr(), /SIGINT again, exiting without a graceful stop/);
    assert.equal(linkExists(bed.engineIf), false, 'the bed must be removed on exit');
  });

  it('a connection with unread data gets a RST instead, as close() does', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'xdpnet-signals-'));
    const app = path.join(dir, 'never-reads.mjs');
    writeFileSync(
      app,
      `import { net } from ${JSON.stringify(pathToFileURL(path.join(here, '../../ts/index.js')).href)};\n` +
        'net.createServer((socket) => socket.pause()).listen(7);\n',
    );
    const script = path.join(dir, 'user.mjs');
    writeFileSync(script, userScript(app));
    const run = start([script]);
    const { exit, peerSaw } = await signalDuringConnection(
      run,
      'SIGTERM',
      children,
      PY_UNREAD_PEER,
    );
    assert.equal(peerSaw, 'reset', `the peer must be reset (RFC 2525 2.17); ${run.stderr()}`);
    assert.deepEqual(exit, { code: 143, signal: null }, run.stderr());
  });

  it('xdpnet perf: SIGINT during the run stops the engine, exits 130 and removes the bed', async () => {
    const before = execFileSync('ip', ['netns', 'list']).toString();
    const run = start([cli, 'perf', 'tcp-rr', '--seconds', '30']);
    children.push(run.child);
    // The engine side runs first: its workers are up once its bed's namespace exists and a few
    // seconds have passed (the load has started).
    await new Promise((r) => setTimeout(r, 6000));
    assert.equal(run.child.exitCode, null, `perf ended early: ${run.stderr()}`);
    const during = execFileSync('ip', ['netns', 'list']).toString();
    const made = during.split('\n').filter((l) => l !== '' && !before.includes(l));
    assert.equal(made.length, 1, `the perf run's bed: ${during}`);
    run.child.kill('SIGINT');
    const exit = await withTimeout(run.exited, 20000, 'graceful stop of the perf run');
    assert.deepEqual(exit, { code: 130, signal: null }, run.stderr());
    const after = execFileSync('ip', ['netns', 'list']).toString();
    const name = made[0].split(' ')[0];
    assert.ok(!after.includes(name), `namespace ${name} left behind`);
  });

  it("an Engine in a user's process: SIGINT sends the FIN and exits 130", async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'xdpnet-signals-'));
    const script = path.join(dir, 'user.mjs');
    writeFileSync(script, USER_SCRIPT);
    const run = start([script]);
    const { bed, exit, peerSaw } = await signalDuringConnection(run, 'SIGINT', children);
    assert.equal(peerSaw, 'eof', `the peer must read our FIN; engine: ${run.stderr()}`);
    assert.deepEqual(exit, { code: 130, signal: null }, run.stderr());
    assert.equal(linkExists(bed.engineIf), false, 'the bed must be removed');
  });
});
