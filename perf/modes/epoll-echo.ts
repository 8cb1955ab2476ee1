// perf epoll-echo: request/response rate of examples/epoll-echo (the Reactor on the sys/epoll
// API) under many concurrent connections, beside Node's `net` echo on the kernel stack driven by
// the same load in the same run. The load is a Python selectors client in the peer namespace:
// CONNS connections, each with one 64-byte request outstanding at a time (a request is answered
// when all 64 bytes are back); bounded by a request count and by --seconds.
import path from 'node:path';
import { requireBed, type PerfTarget } from './common.js';
import { appVersusBaseline } from './app-versus-baseline.js';
import { latencyFigures, type LatencyReport } from './tcp-rr.js';
import { examplesDir, type TcpFigures, type TcpPerfResult } from './tcp-common.js';
import type { TestBed } from '../../ts/testbed/testbed.js';

const ECHO_PORT = 7;
const CONNS = 32;
const REQUEST_BYTES = 64;
const MAX_REQUESTS = 5_000_000;

const PY_LOAD = `
import json, selectors, socket, sys, time
host, port, conns, size, count, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
sel = selectors.DefaultSelector()
msg = bytes(range(size))
socks = []
for i in range(conns):
    s = socket.create_connection((host, port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for _ in range(20):  # warm-up: slow start, JIT on the server side
        s.sendall(msg)
        got = 0
        while got < size: got += len(s.recv(size - got))
    s.setblocking(False)
    socks.append(s)
pc = time.perf_counter_ns
lat, errors, pending = [], 0, {}
t0 = time.perf_counter(); end = t0 + seconds
for s in socks:
    pending[s] = [pc(), 0]; s.send(msg); sel.register(s, selectors.EVENT_READ)
while len(lat) < count and time.perf_counter() < end:
    for key, _ in sel.select(timeout=1):
        s = key.fileobj; p = pending[s]
        b = s.recv(65536)
        if not b:
            errors += 1; sel.unregister(s); continue
        p[1] += len(b)
        if p[1] >= size:
            now = pc(); lat.append(now - p[0])
            p[0] = now; p[1] -= size; s.send(msg)
elapsed = time.perf_counter() - t0
for s in socks: s.close()
us = sorted(x / 1000 for x in lat)
def pct(q): return round(us[min(len(us) - 1, int(len(us) * q))], 1) if us else None
print(json.dumps({"requests": len(lat), "errors": errors, "seconds": round(elapsed, 3),
    "rps": round(len(lat) / elapsed) if elapsed > 0 else 0,
    "p50_us": pct(0.5), "p99_us": pct(0.99), "p999_us": pct(0.999)}))
`;

function driver(bed: TestBed, seconds: number) {
  return async (dst: string, cpu: () => number): Promise<TcpFigures> => {
    const cpu0 = cpu();
    const args = [dst, ECHO_PORT, CONNS, REQUEST_BYTES, MAX_REQUESTS, seconds].map(String);
    const r = await bed.exec(['python3', '-c', PY_LOAD, ...args], {
      timeoutMs: (seconds + 30) * 1000,
    });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || !line.startsWith('{')) {
      throw Object.assign(new Error(`epoll-echo load failed: ${r.stderr || r.stdout}`), {
        code: 'EPEER',
      });
    }
    return latencyFigures(JSON.parse(line) as LatencyReport, cpu() - cpu0);
  };
}

export async function epollEcho(target: PerfTarget): Promise<TcpPerfResult> {
  const bed = requireBed(target, 'epoll-echo');
  const seconds = target.options.seconds;
  return appVersusBaseline(bed, target, {
    mode: 'epoll-echo',
    app: path.join(examplesDir, 'epoll-echo.js'),
    drive: driver(bed, seconds),
    baseline: {
      name: 'node-net-echo',
      script: 'net-echo',
      port: ECHO_PORT,
      maxSeconds: seconds + 40,
    },
  });
}
