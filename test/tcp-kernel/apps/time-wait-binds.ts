// Test app for test/tcp-kernel/time-wait-binds.test.ts: the engine (worker 0) runs, through the
// sys API, the steps the test's Python client runs on the kernel: from local port
// XDPNET_TW_PORT, connect to the echo server XDPNET_TW_SERVER (host:port), echo a byte, close
// first (TIME-WAIT here), then bind() that port without SO_REUSEADDR, connect from it (bound,
// with SO_REUSEADDR) over the TIME-WAIT at once and again after 1.1 s; then the same three
// connects from a port the connect picks (the engine's ephemeral range is one port). Writes what
// each step returned to XDPNET_TW_RESULT.
import { writeFileSync } from 'node:fs';
import { sys } from '../../../ts/index.js';
import { workerStack } from '../../../ts/api/worker-stack.js';

const [host, portText] = (process.env.XDPNET_TW_SERVER ?? '').split(':');
const server = { family: sys.AF_INET, address: host, port: Number(portText) };
const localPort = Number(process.env.XDPNET_TW_PORT ?? 0);
const resultFile = process.env.XDPNET_TW_RESULT ?? '';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function reuseSocket(): number {
  const fd = sys.socket(sys.AF_INET, sys.SOCK_STREAM);
  sys.setsockopt(fd, sys.SOL_SOCKET, sys.SO_REUSEADDR, 1);
  return fd;
}

/** Binds `fd` to the local port (or not); connects; echoes one byte. 'OK' or the errno's name. */
async function connectAndEcho(fd: number, byte: number, bound = true): Promise<string> {
  const b = bound ? sys.bind(fd, { family: sys.AF_INET, address: '0.0.0.0', port: localPort }) : 0;
  if (b < 0) return `bind ${sys.errnoName(b)}`;
  const c = await sys.connectAsync(fd, server);
  if (c < 0) return sys.errnoName(c);
  sys.write(fd, Uint8Array.of(byte));
  const buf = new Uint8Array(4);
  const n = await sys.readAsync(fd, buf);
  return n === 1 && buf[0] === byte ? 'OK' : `echo ${n}`;
}

async function main(): Promise<void> {
  const out: Record<string, string> = {};
  const first = reuseSocket();
  out.first = await connectAndEcho(first, 1);
  sys.close(first); // our FIN leads: this side keeps the TIME-WAIT
  await sleep(300); // the server's FIN comes back
  const plain = sys.socket(sys.AF_INET, sys.SOCK_STREAM);
  out.bindPlain = sys.errnoName(
    sys.bind(plain, { family: sys.AF_INET, address: '0.0.0.0', port: localPort }),
  );
  sys.close(plain);
  const young = reuseSocket();
  out.connectYoung = await connectAndEcho(young, 2);
  sys.close(young);
  await sleep(1100);
  const old = reuseSocket();
  out.connectOld = await connectAndEcho(old, 3);
  sys.close(old);
  // From the one port the connect may pick.
  for (const [step, wait] of [
    ['pickedFirst', 0],
    ['pickedYoung', 300],
    ['pickedOld', 1100],
  ] as const) {
    await sleep(wait);
    const fd = sys.socket(sys.AF_INET, sys.SOCK_STREAM);
    out[step] = await connectAndEcho(fd, 4, false);
    sys.close(fd);
  }
  writeFileSync(resultFile, JSON.stringify(out));
}

if (workerStack().workerId === 0) {
  main().catch((err: unknown) => writeFileSync(resultFile, JSON.stringify({ error: String(err) })));
}
