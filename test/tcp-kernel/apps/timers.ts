// Test app for test/tcp-kernel/timers.test.ts: one scenario per run (XDPNET_TT_SCENARIO) against
// a kernel peer at XDPNET_TT_PEER, port XDPNET_TT_PORT. It writes `<XDPNET_TT_DIR>/up` once its
// connection is established and `<XDPNET_TT_DIR>/result.json` with what it saw; the test waits
// for `<XDPNET_TT_DIR>/go` where a scenario needs the peer blackholed first.
//   net-live          echo server on PORT (createServer keepAlive, keepAliveInitialDelay 2000) and
//                     an echoing client of PEER:PORT+1 (connect keepAlive, keepAliveInitialDelay)
//   net-dead          client of PEER:PORT; setKeepAlive(true, 2500) once connected; the error
//   sys-live          sys client of PEER:PORT, SO_KEEPALIVE + TCP_KEEPIDLE 2 / KEEPINTVL 1 /
//                     KEEPCNT 3 set before connect; echoes until EOF
//   sys-dead          the same options set after connect; reads until the error
//   sys-user-timeout  TCP_USER_TIMEOUT 3000; after `go`, writes 16 KB and waits for the error
//   net-persist       client of PEER:PORT writing SIZE bytes, then reading the peer's digest
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { net } from '../../../ts/index.js';
import * as sys from '../../../ts/api/sys/index.js';
import { pattern } from '../../support/byte-pattern.js';

const scenario = process.env.XDPNET_TT_SCENARIO ?? '';
const dir = process.env.XDPNET_TT_DIR ?? '';
const peer = process.env.XDPNET_TT_PEER ?? '';
const port = Number(process.env.XDPNET_TT_PORT ?? '0');
const size = Number(process.env.XDPNET_TT_SIZE ?? '0');
const GIVE_UP_MS = 40000;

function report(out: Record<string, unknown>): void {
  writeFileSync(path.join(dir, 'result.json'), JSON.stringify(out));
}

function up(): void {
  writeFileSync(path.join(dir, 'up'), String(Date.now()));
}

async function go(): Promise<void> {
  const end = Date.now() + GIVE_UP_MS;
  while (!existsSync(path.join(dir, 'go'))) {
    if (Date.now() > end) throw new Error('no go from the test');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function netLive(): void {
  const errors: string[] = [];
  let echoed = 0;
  const echo = (s: net.Socket): void => {
    s.on('data', (d: Buffer) => {
      echoed += d.length;
      s.write(d);
    });
    s.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? e.message));
    s.on('end', () => s.end());
  };
  let closed = 0;
  const closedOne = (): void => {
    if (++closed === 2) report({ errors, echoed });
  };
  const server = net.createServer({ keepAlive: true, keepAliveInitialDelay: 2000 }, (s) => {
    echo(s);
    s.on('close', closedOne);
    server.close();
  });
  server.listen(port, () => {
    // The kernel listens on PORT+1 before this app starts.
    const c = net.connect({
      host: peer,
      port: port + 1,
      keepAlive: true,
      keepAliveInitialDelay: 2000,
    });
    echo(c);
    c.on('connect', up);
    c.on('close', closedOne);
  });
}

function netDead(): void {
  const c = net.connect({ host: peer, port });
  const giveUp = setTimeout(() => report({ error: 'none' }), GIVE_UP_MS);
  c.on('connect', () => {
    c.setKeepAlive(true, 2500); // Node: idle 2 s (whole seconds), 1 s interval, 10 probes
    up();
  });
  c.on('error', (e: NodeJS.ErrnoException) => {
    clearTimeout(giveUp);
    report({ error: e.code ?? e.message });
  });
}

const { AF_INET, IPPROTO_TCP, SOCK_STREAM, SOL_SOCKET, SO_ERROR, SO_KEEPALIVE } = sys;
const { TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_USER_TIMEOUT } = sys;

function must(r: number, what: string): number {
  if (r < 0) throw new Error(`${what}: ${sys.errnoName(r)}`);
  return r;
}

function keepAliveOptions(fd: number): void {
  must(sys.setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, 1), 'SO_KEEPALIVE');
  must(sys.setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, 2), 'TCP_KEEPIDLE');
  must(sys.setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, 1), 'TCP_KEEPINTVL');
  must(sys.setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, 3), 'TCP_KEEPCNT');
}

async function sysClient(before: (fd: number) => void): Promise<number> {
  const fd = must(sys.socket(AF_INET, SOCK_STREAM), 'socket');
  before(fd);
  must(await sys.connectAsync(fd, { family: AF_INET, address: peer, port }), 'connect');
  return fd;
}

/** Reads (echoing what comes) until EOF or an error; returns the last read's result. */
async function echoUntilEnd(fd: number): Promise<{ last: number; echoed: number }> {
  const buf = new Uint8Array(4096);
  let echoed = 0;
  for (;;) {
    const n = await sys.readAsync(fd, buf);
    if (n <= 0) return { last: n, echoed };
    must(await sys.writeAsync(fd, buf.subarray(0, n)), 'write');
    echoed += n;
  }
}

async function sysLive(): Promise<void> {
  const fd = await sysClient(keepAliveOptions);
  up();
  const r = await echoUntilEnd(fd);
  report({ last: r.last, echoed: r.echoed });
  sys.close(fd);
}

async function sysDead(): Promise<void> {
  const fd = await sysClient(() => undefined);
  keepAliveOptions(fd); // on the established connection
  up();
  const r = await echoUntilEnd(fd);
  report({ last: sys.errnoName(r.last), soError: sys.getsockopt(fd, SOL_SOCKET, SO_ERROR) });
  sys.close(fd);
}

async function sysUserTimeout(): Promise<void> {
  const fd = await sysClient(() => undefined);
  must(sys.setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 3000), 'TCP_USER_TIMEOUT');
  const ut = sys.getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT);
  up();
  await go();
  const wrote = must(await sys.writeAsync(fd, pattern(16 * 1024, 7)), 'write');
  const t0 = Date.now();
  const r = await echoUntilEnd(fd);
  report({ ut, wrote, last: sys.errnoName(r.last), afterMs: Date.now() - t0 });
  sys.close(fd);
}

function netPersist(): void {
  const data = pattern(size, 3);
  const sha = createHash('sha256').update(data).digest('hex');
  const c = net.connect({ host: peer, port });
  let reply = '';
  c.setEncoding('utf8');
  c.on('connect', () => {
    up();
    c.end(data);
  });
  c.on('data', (d: string) => (reply += d));
  c.on('error', (e: NodeJS.ErrnoException) => report({ error: e.code ?? e.message }));
  c.on('end', () => {
    const [got, digest] = reply.trim().split(' ');
    report({ got: Number(got), match: digest === sha });
  });
}

function run(): void {
  const fail = (e: unknown): void => report({ error: (e as Error).message });
  if (scenario === 'net-live') netLive();
  else if (scenario === 'net-dead') netDead();
  else if (scenario === 'sys-live') sysLive().catch(fail);
  else if (scenario === 'sys-dead') sysDead().catch(fail);
  else if (scenario === 'sys-user-timeout') sysUserTimeout().catch(fail);
  else if (scenario === 'net-persist') netPersist();
}

if (dir !== '') run();
