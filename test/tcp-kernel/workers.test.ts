// TCP over several stack workers behind the software-RSS dispatcher, with the Linux kernel as the
// peer: a listener in every worker (SO_REUSEPORT semantics) serves the kernel's connections
// wherever their hash lands, and connects from every worker pick ephemeral ports whose hash brings
// the replies back to the connecting worker.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import type { Engine } from '../../ts/runtime/engine.js';
import { startEngineOnBed, stopEngineAndBed } from '../support/engine-on-bed.js';
import { runPeerPython } from '../support/peer-namespace.js';
import { PY_MANY_ECHO } from '../support/py-many-echo.js';
import { netstatCounters } from '../../ts/runtime/control-counters.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const echoApp = path.join(here, '../../examples/tcp-echo.js');
const clientsApp = path.join(here, 'apps/worker-clients.js');
const WORKERS = 2;

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
    engine = await startEngineOnBed(bed, app, { workers: WORKERS, softwareRss: true });
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
    const stopping = engine;
    engine = undefined;
    await stopEngineAndBed({ engine: stopping, bed, dir, requireFullAudit: false });
  });

  it('serves the kernel clients in every worker, over IPv4 and IPv6', async function () {
    this.timeout(120000);
    await start(echoApp);
    const n = 200;
    for (const host of [bed.engineIpv4, bed.engineIpv6]) {
      const out = await runPeerPython(bed, PY_MANY_ECHO, [host, '7', String(n), '0', '30'], 45000);
      const r = JSON.parse(out) as Record<string, number>;
      assert.deepEqual({ echoed: r.echoed, errors: r.errors }, { echoed: n, errors: 0 }, host);
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
