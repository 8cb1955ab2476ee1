// Test app for test/tcp-kernel/scale.test.ts: ten thousand connections on one engine worker, and
// what the stack holds once they are gone. XDPNET_B2_SCENARIO lists the roles (comma-separated):
//   servers       examples/tcp-echo.js on port 7, and on port 7101 an echo server that closes
//                 first when a message ends in '!'
//   hold          XDPNET_B2_COUNT connections at once to the kernel echo server XDPNET_B2_TARGET,
//                 each echoes its own message; all held until every one answered; then closed
//   cycle         XDPNET_B2_COUNT connect/exchange/close cycles, XDPNET_B2_CONCURRENCY at a time,
//                 alternating who closes first (even: we do; odd: the server, on '!')
// Every scenario writes a snapshot of the stack's tables, memory and still-reachable connection
// objects to `${XDPNET_B2_DIR}/snap.json` every 250 ms; hold and cycle write their outcome to
// `${XDPNET_B2_DIR}/result.json`.
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { net } from '../../../ts/index.js';
import { workerStack } from '../../../ts/api/worker-stack.js';
import { TcpState } from '../../../ts/socket/tcp/state.js';
import type { TcpStack } from '../../../ts/socket/tcp/tcp-stack.js';

const scenario = process.env.XDPNET_B2_SCENARIO ?? '';
const dir = process.env.XDPNET_B2_DIR ?? '';
const count = Number(process.env.XDPNET_B2_COUNT ?? 0);
const concurrency = Number(process.env.XDPNET_B2_CONCURRENCY ?? 100);
const target = /^\[?([^\]]+?)\]?:(\d+)$/.exec(process.env.XDPNET_B2_TARGET ?? '');
const tcp = workerStack().tcp as TcpStack;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

// Weak references to every connection and socket object seen: once the stack has let go of a
// connection, a full GC must be able to collect it with its TCB and buffers.
const seen = new WeakSet<object>();
const refs: WeakRef<object>[] = [];
function track(o: object): void {
  if (seen.has(o)) return;
  seen.add(o);
  refs.push(new WeakRef(o));
}

function writeJson(name: string, value: unknown): void {
  const file = path.join(dir, name);
  writeFileSync(`${file}.tmp`, JSON.stringify(value));
  renameSync(`${file}.tmp`, file); // readers never see half a file
}

function memory(): { rss: number; arrayBuffers: number; heapUsed: number } {
  const m = process.memoryUsage();
  return { rss: m.rss, arrayBuffers: m.arrayBuffers, heapUsed: m.heapUsed };
}

const baseline = memory();
let peak = { connections: 0, ...baseline };
let gcRuns = 0;
let lastAlive = 0;

function deviceFigures(): Record<string, unknown> {
  const d = workerStack().iface.device as unknown as Record<string, unknown>;
  return {
    free: d.freeFrames,
    txInFlight: d.txInFlight,
    pendingTx: d.pendingTx,
    counters: d.counters,
  };
}

function snapshot(): void {
  let connections = 0;
  let timeWaitNow = 0;
  for (const c of tcp.allConnections()) {
    connections++;
    if (c.tcb.state === TcpState.TimeWait) timeWaitNow++;
    track(c);
  }
  if (connections >= peak.connections && connections > 0) peak = { connections, ...memory() };
  // Collect only when the tables are empty: then every tracked object should be garbage. The GC
  // runs before any deref() in this job: a deref keeps its target alive until the job ends.
  if (connections === 0 && lastAlive > 0) {
    gc();
    gc();
    gcRuns++;
  }
  lastAlive = refs.filter((r) => r.deref() !== undefined).length;
  const listeners = [];
  for (const l of tcp.allListeners()) {
    listeners.push({ port: l.localPort, syn: l.synQueueLength, accept: l.acceptQueue.length });
  }
  writeJson('snap.json', {
    connections,
    timeWaitNow,
    timers: tcp.timerCount,
    ports: tcp.portsInUse,
    listeners,
    tracked: refs.length,
    alive: lastAlive,
    aliveSample: describe(refs.find((r) => r.deref() !== undefined)?.deref()),
    gcRuns,
    stats: { ...tcp.stats },
    device: deviceFigures(),
    baseline,
    peak,
    now: memory(),
  });
}
setInterval(snapshot, 250);

/** What a leaked object is, for the failure message. */
function describe(o: object | undefined): string | null {
  if (o === undefined) return null;
  if (!('tcb' in o)) return o.constructor.name;
  const c = o as { tcb: { state: number }; localPort: number; remotePort: number };
  return `TcpConn ${c.localPort}->${c.remotePort} state ${c.tcb.state} ${JSON.stringify(o, (k, v: unknown) => (k === 'tcb' || k === 'user' || k === 'next' || k === 'listener' ? undefined : v))}`;
}

function servers(): void {
  process.env.ECHO_PORT = '7';
  void import('../../../examples/tcp-echo.js');
  net
    .createServer((s) => {
      track(s);
      let got = '';
      s.on('data', (b: Buffer) => {
        got += b.toString();
        s.write(b);
        if (got.endsWith('!')) s.end(); // we close first: this side holds TIME-WAIT
      });
      s.on('error', () => s.destroy());
    })
    .listen(7101);
}

interface Open {
  socket: net.Socket;
  /** Settles on 'close', whenever that comes (it can come in the same tick as the echo). */
  closed: Promise<void>;
}

/** One connection: connect, send msg, wait for its echo. Resolves the socket, or an error code. */
function open(host: string, port: number, msg: string): Promise<Open | string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    track(s);
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    let got = '';
    s.setTimeout(30000, () => s.destroy(Object.assign(new Error('no echo'), { code: 'NOECHO' })));
    s.on('connect', () => s.write(msg));
    s.on('data', (b: Buffer) => {
      got += b.toString();
      if (got.length >= msg.length) {
        s.setTimeout(0);
        resolve(got === msg ? { socket: s, closed } : `mismatch:${got}`);
      }
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    void closed.then(() => resolve('closed before the echo'));
  });
}

function tally(errors: Record<string, number>, code: string): void {
  errors[code] = (errors[code] ?? 0) + 1;
}

async function hold(host: string, port: number): Promise<void> {
  const t0 = performance.now();
  const pending: Promise<Open | string>[] = [];
  // Batches of 500 per macrotask: the loop flushes SYNs between them instead of one 10k burst.
  for (let i = 0; i < count; i++) {
    pending.push(open(host, port, `conn-${String(i).padStart(5, '0')};`));
    if (i % 500 === 499) await new Promise((r) => setImmediate(r));
  }
  const opened = performance.now() - t0;
  const results = await Promise.all(pending);
  const ms = performance.now() - t0;
  const sockets = results.filter((r): r is Open => typeof r !== 'string');
  const errors: Record<string, number> = {};
  for (const r of results) if (typeof r === 'string') tally(errors, r);
  // Every socket is still open here: count what the stack holds established right now.
  let established = 0;
  const states: Record<number, number> = {};
  for (const c of tcp.allConnections()) {
    if (c.tcb.state === TcpState.Established) established++;
    states[c.tcb.state] = (states[c.tcb.state] ?? 0) + 1;
  }
  const held = memory();
  writeJson('result.json', {
    echoed: sockets.length,
    errors,
    established,
    states,
    openCallsMs: Math.round(opened),
    allEchoedMs: Math.round(ms),
    rssDelta: held.rss - baseline.rss,
    arrayBuffersDelta: held.arrayBuffers - baseline.arrayBuffers,
    heapDelta: held.heapUsed - baseline.heapUsed,
  });
  for (const o of sockets) o.socket.end(); // we close first: 10,000 TIME-WAITs on the timer heap
}

async function cycle(host: string, port: number): Promise<void> {
  const t0 = performance.now();
  let next = 0;
  let ok = 0;
  const errors: Record<string, number> = {};
  const one = async (i: number): Promise<void> => {
    const serverFirst = i % 2 === 1;
    const msg = `cycle-${i};${serverFirst ? '!' : ''}`;
    const r = await open(host, port, msg);
    if (typeof r === 'string') {
      tally(errors, r);
      return;
    }
    if (!serverFirst) r.socket.end();
    await r.closed;
    ok++;
  };
  const lane = async (): Promise<void> => {
    while (next < count) await one(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  writeJson('result.json', { ok, errors, ms: Math.round(performance.now() - t0) });
}

for (const role of scenario.split(',')) {
  if (role === 'servers') servers();
  else if (target === null) throw new Error(`XDPNET_B2_TARGET must be host:port`);
  else if (role === 'hold') void hold(target[1], Number(target[2]));
  else if (role === 'cycle') void cycle(target[1], Number(target[2]));
  else throw new Error(`unknown XDPNET_B2_SCENARIO role ${role}`);
}
