// Node's own http server on the engine (xdpnet's http.createServer), driven from the test bed's
// peer namespace by curl and small Python clients on the kernel's TCP, over IPv4 and IPv6:
// keep-alive, pipelining, 10 MB each way checked by SHA-256 at both ends, Expect: 100-continue,
// a client walking away mid-response, a client's half-close, and the server's headersTimeout,
// requestTimeout and keepAliveTimeout.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import type { Engine } from '../../ts/runtime/engine.js';
import { startEngineOnBed, stopEngineAndBed } from '../support/engine-on-bed.js';
import { runPeerPython } from '../support/peer-namespace.js';
import { readResult } from '../support/result-file.js';
import { PY_PIPELINE, PY_SOCKET_FACTS, PY_WAIT_FOR_CLOSE, PY_WALK_AWAY } from './peer-clients.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const featuresApp = path.join(here, 'apps/http-features.js');
const PORT = 8080;
const TEN_MB = 10 * 1024 * 1024;

interface Family {
  name: string;
  host: string;
  /** The host as it goes in a URL. */
  urlHost: string;
}

describe('http: Node http.Server on the engine, kernel clients', function () {
  this.timeout(120000);
  let bed: TestBed;
  let engine: Engine | undefined;
  let dir: string;
  let families: Family[];

  before(async function () {
    bed = await TestBed.up();
    dir = mkdtempSync(path.join(tmpdir(), 'xdpnet-http1-'));
    process.env.XDPNET_HTTP_PORT = String(PORT);
    process.env.XDPNET_HTTP_RESULT_DIR = dir;
    engine = await startEngineOnBed(bed, featuresApp);
    families = [
      { name: 'IPv4', host: bed.engineIpv4, urlHost: bed.engineIpv4 },
      { name: 'IPv6', host: bed.engineIpv6, urlHost: `[${bed.engineIpv6}]` },
    ];
  });

  after(async function () {
    const stopping = engine;
    engine = undefined;
    await stopEngineAndBed({ engine: stopping, bed, dir });
  });

  const url = (f: Family, p: string): string => `http://${f.urlHost}:${PORT}${p}`;

  /** Runs a shell pipeline in the peer namespace; asserts it exited 0 and returns its output. */
  async function peerShell(script: string, timeoutMs = 60000): Promise<string> {
    const r = await bed.exec(['sh', '-c', script], { timeoutMs });
    assert.equal(r.code, 0, `${script}\n${r.stderr}`);
    return r.stdout;
  }

  it('keeps one connection alive across several curl requests', async function () {
    for (const f of families) {
      const r = await bed.exec(
        [
          'curl',
          '-sS',
          '-v',
          '-g',
          '-m',
          '10',
          '-D',
          '-',
          url(f, '/a'),
          url(f, '/b'),
          url(f, '/c'),
        ],
        { timeoutMs: 20000 },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.match(/GET \/\w\n/g), ['GET /a\n', 'GET /b\n', 'GET /c\n']);
      // curl says so, and the server saw the same peer port on all three.
      assert.equal(r.stderr.match(/Re-using existing connection/g)?.length, 2, r.stderr);
      const ports = [...r.stdout.matchAll(/X-Client-Port: (\d+)/gi)].map((m) => m[1]);
      assert.equal(ports.length, 3, r.stdout);
      assert.equal(new Set(ports).size, 1, `${f.name}: ${ports.join(' ')}`);
    }
  });

  it("gives Node's http the connection's addresses, ports, family, state and byte counts", async function () {
    for (const f of families) {
      const out = await runPeerPython(bed, PY_SOCKET_FACTS, [f.host, String(PORT)], 20000);
      const r = JSON.parse(out) as {
        client: [string, number];
        server: [string, number];
        sent: number;
        gotBefore: number;
        facts: Record<string, unknown>;
      };
      assert.deepEqual(
        r.facts,
        {
          remote: [...r.client, f.name],
          local: r.server,
          readyState: 'open',
          bytesRead: r.sent,
          bytesWritten: r.gotBefore,
        },
        out,
      );
    }
  });

  it('answers two pipelined requests sent in one write, in order', async function () {
    for (const f of families) {
      const out = await runPeerPython(bed, PY_PIPELINE, [f.host, String(PORT)], 20000);
      assert.deepEqual(
        JSON.parse(out),
        { statuses: ['200', '200'], bodies: ['GET /first', 'GET /second'] },
        f.name,
      );
    }
  });

  it('takes a 10 MB POST body with the same SHA-256 at both ends', async function () {
    for (const f of families) {
      const file = path.join(dir, `up-${f.name}.bin`);
      const id = `upload-${f.name}`;
      const out = await peerShell(
        `head -c ${TEN_MB} /dev/urandom > ${file} && sha256sum ${file} | cut -d' ' -f1 && ` +
          `curl -sS -g -m 30 -H 'Expect:' -H 'X-Test-Id: ${id}' --data-binary @${file} ${url(f, '/upload')}`,
      );
      const [sent, answer] = out.trim().split('\n');
      assert.deepEqual(JSON.parse(answer), { sha256: sent, bytes: TEN_MB }, f.name);
      assert.deepEqual(await readResult(path.join(dir, `${id}.json`), 5000), {
        sha256: sent,
        bytes: TEN_MB,
      });
    }
  });

  it('sends a 10 MB chunked response with the same SHA-256 at both ends', async function () {
    for (const f of families) {
      const headers = path.join(dir, `chunked-${f.name}.head`);
      const id = `chunked-${f.name}`;
      const got = await peerShell(
        `curl -sS -g -m 30 -D ${headers} -H 'X-Test-Id: ${id}' '${url(f, `/chunked?bytes=${TEN_MB}`)}'` +
          ` | sha256sum | cut -d' ' -f1`,
      );
      assert.match(readFileSync(headers, 'utf8'), /Transfer-Encoding: chunked/i);
      const sent = await readResult<{ sha256: string; bytes: number }>(
        path.join(dir, `${id}.json`),
        5000,
      );
      assert.deepEqual(sent, { sha256: got.trim(), bytes: TEN_MB }, f.name);
    }
  });

  it('answers Expect: 100-continue with 100 Continue before the body', async function () {
    for (const f of families) {
      const file = path.join(dir, `expect-${f.name}.bin`);
      const r = await bed.exec(
        [
          'sh',
          '-c',
          `head -c 200000 /dev/urandom > ${file} && sha256sum ${file} | cut -d' ' -f1 && ` +
            `curl -sS -v -g -m 20 -H 'Expect: 100-continue' --data-binary @${file} ${url(f, '/upload')}`,
        ],
        { timeoutMs: 30000 },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /< HTTP\/1.1 100 Continue/, r.stderr);
      assert.match(r.stderr, /< X-Saw-Expect: 100-continue/i, r.stderr);
      const [sent, answer] = r.stdout.trim().split('\n');
      assert.deepEqual(JSON.parse(answer), { sha256: sent, bytes: 200000 }, f.name);
    }
  });

  it('sees a client that walks away mid-response, and goes on serving', async function () {
    for (const f of families) {
      const id = `walk-${f.name}`;
      const out = await runPeerPython(bed, PY_WALK_AWAY, [
        f.host,
        String(PORT),
        id,
        String(256 * 1024),
      ]);
      assert.ok((JSON.parse(out) as { got: number }).got >= 256 * 1024, out);
      const seen = await readResult<{ finished: boolean; sent: number }>(
        path.join(dir, `${id}.json`),
        5000,
      );
      assert.equal(seen.finished, false, JSON.stringify(seen));
      assert.ok(seen.sent < 500 * 64 * 1024, JSON.stringify(seen));
      const r = await bed.exec(['curl', '-sS', '-g', '-m', '10', url(f, '/after')], {
        timeoutMs: 20000,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'GET /after\n');
    }
  });

  it('cuts off a client that sends half a header at headersTimeout (1 s) with a 408', async function () {
    for (const f of families) {
      const half = 'GET / HTTP/1.1\\r\\nHost: engine\\r\\n';
      const out = await runPeerPython(bed, PY_WAIT_FOR_CLOSE, [f.host, String(PORT), half], 20000);
      const r = JSON.parse(out) as { closed: boolean; seconds: number; statuses: string[] };
      assert.equal(r.closed, true, out);
      assert.deepEqual(r.statuses, ['408'], out);
      // headersTimeout is 1 s, checked every 100 ms.
      assert.ok(r.seconds >= 0.9 && r.seconds < 2.5, `${f.name}: closed after ${r.seconds} s`);
    }
  });

  it('cuts off a request whose body stops coming at requestTimeout (3 s) with a 408', async function () {
    for (const f of families) {
      const partial =
        'POST /upload HTTP/1.1\\r\\nHost: engine\\r\\nContent-Length: 100\\r\\n\\r\\n0123456789';
      const out = await runPeerPython(
        bed,
        PY_WAIT_FOR_CLOSE,
        [f.host, String(PORT), partial],
        20000,
      );
      const r = JSON.parse(out) as { closed: boolean; seconds: number; statuses: string[] };
      assert.equal(r.closed, true, out);
      assert.deepEqual(r.statuses, ['408'], out);
      assert.ok(r.seconds >= 2.9 && r.seconds < 4.5, `${f.name}: closed after ${r.seconds} s`);
    }
  });

  it('answers a client that half-closes after its request, then closes', async function () {
    for (const f of families) {
      const request = 'GET /half HTTP/1.1\\r\\nHost: engine\\r\\n\\r\\n';
      const args = [f.host, String(PORT), request, 'half-close'];
      const out = await runPeerPython(bed, PY_WAIT_FOR_CLOSE, args, 20000);
      const r = JSON.parse(out) as { closed: boolean; seconds: number; statuses: string[] };
      assert.deepEqual(
        { closed: r.closed, statuses: r.statuses },
        { closed: true, statuses: ['200'] },
        out,
      );
      assert.ok(r.seconds < 1, `${f.name}: closed after ${r.seconds} s`);
    }
  });

  it('closes an idle keep-alive connection 1 s after keepAliveTimeout (2 s), as Node does', async function () {
    for (const f of families) {
      const request = 'GET /idle HTTP/1.1\\r\\nHost: engine\\r\\n\\r\\n';
      const out = await runPeerPython(
        bed,
        PY_WAIT_FOR_CLOSE,
        [f.host, String(PORT), request],
        20000,
      );
      const r = JSON.parse(out) as { closed: boolean; seconds: number; statuses: string[] };
      assert.equal(r.closed, true, out);
      assert.deepEqual(r.statuses, ['200'], out);
      // Node's socket timeout is keepAliveTimeout plus 1 s (HTTP_SERVER_KEEP_ALIVE_TIMEOUT_BUFFER
      // in lib/_http_server.js), so that a client's own idle timer runs out first.
      assert.ok(r.seconds >= 2.9 && r.seconds < 4.5, `${f.name}: closed after ${r.seconds} s`);
    }
  });
});
