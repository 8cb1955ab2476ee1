// TCP on the engine with the Linux kernel as the peer (test bed: veth + AF_XDP + netns): kernel
// client -> engine echo, engine client -> kernel server, both families, a few MB with SHA-256
// checks both ways; a refused connect; curl and wrk against the example HTTP server.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import type { Engine } from '../../ts/runtime/engine.js';
import { startEngineOnBed, stopEngineAndBed } from '../support/engine-on-bed.js';
import { runPeerPython } from '../support/peer-namespace.js';
import { PY_ECHO_SHA } from '../support/py-echo-sha.js';
import { readResult } from '../support/result-file.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const examples = path.join(here, '../../examples');
const clientApp = path.join(here, 'apps/tcp-client.js');
const BYTES = 4 * 1024 * 1024;

// Kernel server: accepts one connection, echoes everything, prints the digest of what it got.
const PY_SERVER = `
import hashlib, json, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ':' in host else socket.AF_INET
l = socket.socket(fam); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((host, port)); l.listen(8); l.settimeout(60)
print("ready", flush=True)
c, _ = l.accept(); c.settimeout(30)
h = hashlib.sha256(); got = 0
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b); got += len(b); c.sendall(b)
c.shutdown(socket.SHUT_WR); c.close()
print(json.dumps({"sha": h.hexdigest(), "got": got}), flush=True)
`;

describe('tcp-stack: engine with the kernel as peer', function () {
  let bed: TestBed;
  let engine: Engine | undefined;
  let dir: string;

  async function start(app: string, env: Record<string, string> = {}): Promise<Engine> {
    Object.assign(process.env, env);
    engine = await startEngineOnBed(bed, app, {
      routes: [{ to: '198.19.99.0/24', via: bed.peerIpv4 }],
    });
    return engine;
  }

  beforeEach(async function () {
    bed = await TestBed.up();
    dir = mkdtempSync(path.join(tmpdir(), 'h15-tcp-'));
  });

  afterEach(async function () {
    const stopping = engine;
    engine = undefined;
    await stopEngineAndBed({ engine: stopping, bed, dir });
  });

  for (const family of ['IPv4', 'IPv6'] as const) {
    it(`echoes ${BYTES} bytes from a kernel client over ${family}`, async function () {
      await start(path.join(examples, 'tcp-echo.js'));
      const dst = family === 'IPv4' ? bed.engineIpv4 : bed.engineIpv6;
      const out = await runPeerPython(bed, PY_ECHO_SHA, [dst, '7', String(BYTES)], 60000);
      assert.deepEqual(JSON.parse(out), { match: true, got: BYTES });
    });

    it(`sends ${BYTES} bytes to a kernel server and gets them back over ${family}`, async function () {
      const peer = family === 'IPv4' ? bed.peerIpv4 : bed.peerIpv6;
      const server = bed.exec(['python3', '-u', '-c', PY_SERVER, peer, '9000'], {
        timeoutMs: 60000,
      });
      await new Promise((r) => setTimeout(r, 500)); // the server binds
      const result = path.join(dir, 'result.json');
      await start(clientApp, {
        XDPNET_TEST_TARGET: family === 'IPv4' ? `${peer}:9000` : `[${peer}]:9000`,
        XDPNET_TEST_BYTES: String(BYTES),
        XDPNET_TEST_RESULT: result,
      });
      const got = await readResult<Record<string, unknown>>(result, 60000);
      const s = await server;
      assert.equal(s.code, 0, s.stderr);
      const peerSaw = JSON.parse(s.stdout.split('\n')[1]) as { sha: string; got: number };
      assert.equal(got.error, null);
      assert.equal(got.recvBytes, BYTES);
      assert.equal(peerSaw.got, BYTES);
      assert.equal(peerSaw.sha, got.sentSha);
      assert.equal(got.recvSha, got.sentSha);
    });
  }

  it('fails a connect to a closed kernel port with ECONNREFUSED', async function () {
    const result = path.join(dir, 'refused.json');
    await start(clientApp, {
      XDPNET_TEST_TARGET: `${bed.peerIpv4}:9`,
      XDPNET_TEST_BYTES: '10',
      XDPNET_TEST_RESULT: result,
    });
    assert.equal((await readResult<{ error: string }>(result, 20000)).error, 'ECONNREFUSED');
  });

  it('fails a connect with EHOSTUNREACH when a router answers ICMP host unreachable', async function () {
    // The peer namespace routes for the engine and has no way to 198.19.99.0/24.
    for (const argv of [
      ['sysctl', '-qw', 'net.ipv4.ip_forward=1'],
      ['ip', 'route', 'add', 'unreachable', '198.19.99.0/24'],
    ]) {
      const r = await bed.exec(argv);
      assert.equal(r.code, 0, r.stderr);
    }
    const result = path.join(dir, 'unreach.json');
    await start(clientApp, {
      XDPNET_TEST_TARGET: '198.19.99.1:80',
      XDPNET_TEST_BYTES: '10',
      XDPNET_TEST_RESULT: result,
    });
    const got = await readResult<{ error: string }>(result, 20000);
    assert.equal(got.error, 'EHOSTUNREACH');
  });

  it('serves curl, and wrk for 10 s without errors, from the minimal HTTP server example', async function () {
    this.timeout(90000);
    await start(path.join(examples, 'minimal-http-server.js'));
    for (const url of [`http://${bed.engineIpv4}:8080/`, `http://[${bed.engineIpv6}]:8080/`]) {
      const r = await bed.exec(['curl', '-sS', '-m', '10', '-i', url], { timeoutMs: 20000 });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^HTTP\/1.1 200 OK/);
      assert.match(r.stdout, /Content-Length: 18/);
      assert.match(r.stdout, /Hello from xdpnet\n$/);
    }
    const w = await bed.exec(['wrk', '-t1', '-c10', '-d10s', `http://${bed.engineIpv4}:8080/`], {
      timeoutMs: 40000,
    });
    assert.equal(w.code, 0, w.stderr);
    // wrk prints these lines only when a count is not zero.
    const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
      w.stdout,
    );
    assert.deepEqual(errors?.slice(1).map(Number) ?? [0, 0, 0, 0], [0, 0, 0, 0], w.stdout);
    const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(w.stdout);
    assert.equal(non2xx === null ? 0 : Number(non2xx[1]), 0, w.stdout);
    const reqs = /(\d+) requests in ([\d.]+)s/.exec(w.stdout);
    assert.ok(reqs && Number(reqs[1]) > 100, w.stdout);
    assert.ok(Number(reqs[2]) >= 9.5, `wrk ran ${reqs[2]} s`);
  });
});
