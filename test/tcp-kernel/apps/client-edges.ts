// Test app for test/tcp-kernel/transfer.test.ts: the engine as the TCP client at the edges of a
// connection's life, against kernel servers in the peer namespace. One scenario per run, chosen by
// XDPNET_B1_SCENARIO, started after XDPNET_B1_START_DELAY_MS (default 0); targets in XDPNET_B1_TARGETS (host:port,... with [v6]:port); the outcome of
// target i is written as JSON to `${XDPNET_B1_RESULT}-${i}.json`.
//   connect        connect to every target at once with XDPNET_B1_SYN_RETRIES SYN retries (net.connect's
//                  synRetries option); report the error code and how long it took (ETIMEDOUT,
//                  ECONNREFUSED)
//   close-early    read 64 KiB of what the server writes, then destroy() with data unread
//   reset          send 'x', wait for the server's 'r', then resetAndDestroy (SO_LINGER {1,0})
//   active-close   send 'x', end() first (our FIN leads), wait for the server's FIN
import { writeFileSync } from 'node:fs';
import { net } from '../../../ts/index.js';
import { workerStack } from '../../../ts/api/worker-stack.js';
import type { TcpStack } from '../../../ts/socket/tcp/tcp-stack.js';

const scenario = process.env.XDPNET_B1_SCENARIO ?? '';
const resultFile = process.env.XDPNET_B1_RESULT ?? '';
const targets = (process.env.XDPNET_B1_TARGETS ?? '').split(',').filter((t) => t !== '');
const tcp = (workerStack() as { tcp: TcpStack }).tcp;

function report(i: number, out: Record<string, unknown>): void {
  writeFileSync(`${resultFile}-${i}.json`, JSON.stringify(out));
}

function parseTarget(t: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(t);
  if (m === null) throw new Error(`bad target ${t}`);
  return { host: m[1], port: Number(m[2]) };
}

function connectAll(): void {
  const synRetries = Number(process.env.XDPNET_B1_SYN_RETRIES ?? 2);
  targets.forEach((t, i) => {
    const t0 = performance.now();
    const s = net.connect({ ...parseTarget(t), synRetries });
    s.on('connect', () => report(i, { error: null, connected: true }));
    s.on('error', (e: NodeJS.ErrnoException) =>
      report(i, {
        error: e.code,
        syscall: e.syscall,
        elapsedMs: Math.round(performance.now() - t0),
      }),
    );
  });
}

function closeEarly(i: number): void {
  const s = net.connect(parseTarget(targets[i]));
  let got = 0;
  s.on('data', (d: Buffer) => {
    got += d.length;
    if (got >= 65536) s.destroy(); // unread data still arriving: RFC 2525 2.17, a RST
  });
  s.on('error', (e: NodeJS.ErrnoException) => report(i, { error: e.code, got }));
  s.on('close', () => setTimeout(() => report(i, { error: null, got }), 200));
}

function resetAfterHello(i: number): void {
  const timeWait0 = tcp.stats.timeWait;
  const outRsts0 = tcp.stats.outRsts;
  const s = net.connect(parseTarget(targets[i]));
  s.on('connect', () => s.write('x'));
  s.once('data', () => {
    s.resetAndDestroy();
    setTimeout(() => {
      report(i, {
        timeWait: tcp.stats.timeWait - timeWait0,
        outRsts: tcp.stats.outRsts - outRsts0,
        connections: tcp.connectionCount,
      });
    }, 500);
  });
  s.on('error', (e: NodeJS.ErrnoException) => report(i, { error: e.code }));
}

function activeClose(i: number): void {
  const timeWait0 = tcp.stats.timeWait;
  const s = net.connect(parseTarget(targets[i]));
  s.on('connect', () => s.end('x'));
  s.resume();
  s.on('error', (e: NodeJS.ErrnoException) => report(i, { error: e.code }));
  s.on('close', () => {
    setTimeout(() => {
      report(i, {
        error: null,
        localPort: s.localPort,
        timeWait: tcp.stats.timeWait - timeWait0,
        connections: tcp.connectionCount,
      });
    }, 200);
  });
}

function run(): void {
  if (scenario === 'connect') connectAll();
  else if (scenario === 'close-early') closeEarly(0);
  else if (scenario === 'reset') resetAfterHello(0);
  else if (scenario === 'active-close') activeClose(0);
}

if (resultFile !== '') setTimeout(run, Number(process.env.XDPNET_B1_START_DELAY_MS ?? 0));
