// TCP over several stack workers behind the software-RSS dispatcher, with the Linux kernel as the
// peer: a listener in every worker (SO_REUSEPORT semantics) serves the kernel's connections
// wherever their hash lands, and connects from every worker pick ephemeral ports whose hash brings
// the replies back to the connecting worker.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import { Engine } from '../../ts/runtime/engine.js';
import { netstatCounters } from '../../ts/runtime/control-counters.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const echoApp = path.join(here, '../../examples/tcp-echo.js');
const clientsApp = path.join(here, 'apps/worker-clients.js');
const WORKERS = 2;

// N connections opened at once, each echoing its own message; prints connected/echoed counts.
const PY_MANY = `
import json, selectors, socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
sel = selectors.DefaultSelector()
deadline = time.monotonic() + 30
state = {}
for i in range(n):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setblocking(False)
    s.connect_ex((host, port))
    state[s] = {"msg": ("conn-%05d;" % i).encode(), "sent": False, "got": b""}
    sel.register(s, selectors.EVENT_WRITE)
echoed = errors = 0
while echoed + errors < n and time.monotonic() < deadline:
    for key, ev in sel.select(timeout=1):
        s = key.fileobj; st = state[s]
        try:
            if not st["sent"]:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err: raise OSError(err, "connect")
                s.send(st["msg"]); st["sent"] = True
                sel.modify(s, selectors.EVENT_READ)
            else:
                b = s.recv(64)
                if not b: raise OSError(0, "eof")
                st["got"] += b
                if st["got"] == st["msg"]:
                    echoed += 1; sel.unregister(s)
        except OSError:
            errors += 1; sel.unregister(s)
for s in state: s.close()
print(json.dumps({"echoed": echoed, "errors": errors}))
`;

// A dual-stack threaded echo server on port argv[1]; runs until killed.
const PY_ECHO_SERVER = `
import socket, socketserver, sys
class H(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            b = self.request.recv(65536)
            if not b: return
            self.request.sendall(b)
class S(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 1024
print("ready", flush=True)
S(("::", int(sys.argv[1])), H).serve_forever()
`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('tcp-kernel: TCP across several workers (software RSS)', function () {
  let bed: TestBed;
  let engine: Engine | undefined;
  let dir: string;

  async function start(app: string): Promise<Engine> {
    engine = await Engine.start({
      ifname: bed.engineIf,
      ipv4: [`${bed.engineIpv4}/${bed.ipv4Prefix}`],
      ipv6: [`${bed.engineIpv6}/${bed.ipv6Prefix}`],
      app,
      workers: WORKERS,
      softwareRss: true,
    });
    assert.equal(engine.workers, WORKERS);
    assert.equal(engine.mode, 'dispatch');
    return engine;
  }

  async function tcpPerWorker(key: 'PassiveOpens' | 'ActiveOpens'): Promise<number[]> {
    return (await engine!.stats()).map((s) => netstatCounters(s).Tcp[key]);
  }

  beforeEach(async function () {
    this.timeout(60000);
    bed = await TestBed.up();
    dir = mkdtempSync(path.join(tmpdir(), 'tw-'));
  });

  afterEach(async function () {
    this.timeout(60000);
    try {
      const audit = await engine?.stop();
      if (audit) assert.ok(audit.ok, audit.problems.join('; '));
    } finally {
      engine = undefined;
      await bed?.down();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves the kernel clients in every worker, over IPv4 and IPv6', async function () {
    this.timeout(120000);
    await start(echoApp);
    const n = 200;
    for (const host of [bed.engineIpv4, bed.engineIpv6]) {
      const r = await bed.exec(['python3', '-c', PY_MANY, host, '7', String(n)], {
        timeoutMs: 45000,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { echoed: n, errors: 0 }, host);
    }
    const opens = await tcpPerWorker('PassiveOpens');
    assert.equal(
      opens.reduce((a, b) => a + b, 0),
      2 * n,
    );
    // 400 flows over 2 workers: each gets a share (all on one worker has odds of 2^-399).
    for (const [w, count] of opens.entries()) assert.ok(count > 0, `worker ${w}: ${opens}`);
  });

  for (const family of ['IPv4', 'IPv6'] as const) {
    it(`connects from every worker to a kernel server and gets every reply back (${family})`, async function () {
      this.timeout(120000);
      const server = bed.spawn(['python3', '-u', '-c', PY_ECHO_SERVER, '9007']);
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('echo server did not start')), 15000);
        server.stdout!.once('data', () => (clearTimeout(t), resolve()));
        server.once('exit', (code) => (clearTimeout(t), reject(new Error(`server exit ${code}`))));
      });
      const host = family === 'IPv4' ? bed.peerIpv4 : `[${bed.peerIpv6}]`;
      const count = 100;
      const result = path.join(dir, 'clients');
      Object.assign(process.env, {
        XDPNET_TW_TARGET: `${host}:9007`,
        XDPNET_TW_COUNT: String(count),
        XDPNET_TW_RESULT: result,
      });
      try {
        await start(clientsApp);
      } finally {
        for (const k of ['XDPNET_TW_TARGET', 'XDPNET_TW_COUNT', 'XDPNET_TW_RESULT']) {
          delete process.env[k];
        }
      }
      const files = Array.from({ length: WORKERS }, (_, w) => `${result}.${w}`);
      const end = Date.now() + 60000;
      while (!files.every((f) => existsSync(f)) && Date.now() < end) await sleep(100);
      await sleep(50); // the last write completes
      for (const [w, f] of files.entries()) {
        assert.ok(existsSync(f), `worker ${w} wrote no result`);
        const r = JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
        assert.deepEqual(r, { worker: w, ok: count, failed: 0, errors: [] });
      }
      assert.deepEqual(await tcpPerWorker('ActiveOpens'), [count, count]);
    });
  }
});
