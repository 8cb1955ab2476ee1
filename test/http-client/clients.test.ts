// Node's HTTP clients on the engine against kernel servers in the test bed's peer namespace, over
// IPv4 and IPv6: http.get, a keep-alive http.Agent, uploads, timeouts, https.get, fetch (undici's
// and Node's own) over HTTP and HTTPS, undici.request (HTTP/1.1, and HTTP/2 to Node's http2
// server), tls.connect (TLS 1.3, an echo) and the error codes for a refused connection and a host
// name. The clients run in an engine worker (apps/client.ts); the bodies they got are checked
// against the served file's SHA-256.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import type { Engine } from '../../ts/runtime/engine.js';
import { netstatCounters } from '../../ts/runtime/control-counters.js';
import { startEngineOnBed, stopEngineAndBed } from '../support/engine-on-bed.js';
import { readResult } from '../support/result-file.js';
import {
  CLOSED_PORT,
  HTTP_PORT,
  H2_PORT,
  HTTPS_PORT,
  type PeerServers,
  PROBE_PORT,
  startPeerServers,
  TLS_ECHO_PORT,
} from './peer-servers.js';

const clientApp = path.join(path.dirname(fileURLToPath(import.meta.url)), 'apps/client.js');
const FILE_BYTES = 3 * 1024 * 1024;

type Outcome = Record<string, unknown> & { url: string };

describe('http-client: Node HTTP, TLS and fetch clients through the engine to kernel servers', function () {
  this.timeout(60000);
  let bed: TestBed | undefined;
  let engine: Engine | undefined;
  let dir: string | undefined;
  const children: ChildProcess[] = [];
  let peers: PeerServers;

  /** The peer's URLs for `port` and `pathname`, IPv4 first. */
  function urls(scheme: string, port: number, pathname = '/'): string[] {
    return [
      `${scheme}://${bed!.peerIpv4}:${port}${pathname}`,
      `${scheme}://[${bed!.peerIpv6}]:${port}${pathname}`,
    ];
  }

  /** Runs `scenario` of apps/client.ts on `targets` in a fresh engine; one outcome per target. */
  async function run(scenario: string, targets: string[]): Promise<Outcome[]> {
    const result = path.join(dir!, `${scenario}.json`);
    Object.assign(process.env, {
      XDPNET_HC_SCENARIO: scenario,
      XDPNET_HC_URLS: targets.join(','),
      XDPNET_HC_RESULT: result,
      XDPNET_HC_CA: peers.caFile,
    });
    engine = await startEngineOnBed(bed!, clientApp);
    const outcomes = await readResult<Outcome[]>(result, 40000);
    assert.equal(outcomes.length, targets.length, JSON.stringify(outcomes));
    return outcomes;
  }

  /** TCP connections the engine opened (all workers): proof the clients went through it. */
  async function engineActiveOpens(): Promise<number> {
    const stats = await engine!.stats();
    return stats.reduce((n, s) => n + netstatCounters(s).Tcp.ActiveOpens, 0);
  }

  /** What a complete download of the served file looks like. */
  function fileBody(): { status: number; bytes: number; sha256: string } {
    return { status: 200, bytes: peers.file.bytes, sha256: peers.file.sha256 };
  }

  function bodyOf(o: Record<string, unknown>): Record<string, unknown> {
    return { status: o.status, bytes: o.bytes, sha256: o.sha256 };
  }

  before(async function () {
    bed = await TestBed.up();
    dir = mkdtempSync(path.join(tmpdir(), 'xdpnet-httpc-'));
    peers = await startPeerServers(bed, dir, FILE_BYTES, children);
  });

  afterEach(async function () {
    const stopping = engine;
    engine = undefined;
    await stopEngineAndBed({ engine: stopping, bed: undefined });
  });

  after(async function () {
    await stopEngineAndBed({ engine: undefined, bed, children, dir });
  });

  it('http.get downloads a 3 MB file from python http.server, SHA-256 intact', async function () {
    const outcomes = await run('http-get', urls('http', HTTP_PORT, '/blob.bin'));
    for (const [o, family] of outcomes.map((o, i) => [o, i === 0 ? 'IPv4' : 'IPv6'] as const)) {
      assert.deepEqual(bodyOf(o), fileBody(), JSON.stringify(o));
      assert.equal(o.remoteFamily, family);
    }
    assert.equal(await engineActiveOpens(), 2);
  });

  it('a keep-alive http.Agent sends 5 requests over one connection per family', async function () {
    const outcomes = await run('keep-alive', urls('http', PROBE_PORT));
    for (const o of outcomes) {
      assert.deepEqual(o.reused, [false, true, true, true, true], JSON.stringify(o));
      assert.equal(o.distinctSockets, 1, JSON.stringify(o));
      const port = (o.localPorts as number[])[0];
      assert.deepEqual(o.localPorts, [port, port, port, port, port], JSON.stringify(o));
      // The server saw every request come from that one connection.
      assert.deepEqual(o.peerSawPorts, o.localPorts, JSON.stringify(o));
    }
    // The engine opened one TCP connection per family: the reuse was real, not a new dial.
    assert.equal(await engineActiveOpens(), 2);
  });

  it('POSTs 2 MB chunked (corked writes) and with Content-Length; the server hashes the same bytes', async function () {
    const outcomes = await run('uploads', urls('http', PROBE_PORT));
    for (const o of outcomes) {
      const sent = `${String(o.sha256)} ${String(o.bytes)}`;
      assert.deepEqual(o.chunked, { status: 200, peer: sent }, JSON.stringify(o));
      assert.deepEqual(o.sized, { status: 200, peer: sent }, JSON.stringify(o));
    }
  });

  it('times out a request on a silent server, closes idle pooled sockets, closes without keep-alive', async function () {
    const outcomes = await run('timeouts', urls('http', PROBE_PORT));
    for (const o of outcomes) {
      const request = o.request as { events: string[]; ms: number };
      // req.destroy() in the 'timeout' listener: Node's "socket hang up".
      assert.deepEqual(request.events, ['timeout', 'error ECONNRESET'], JSON.stringify(o));
      assert.ok(request.ms >= 300 && request.ms < 2000, JSON.stringify(o));
      assert.deepEqual(
        o.agent,
        { pooledAfterResponse: 1, pooledAfterIdle: 0, closedWithError: false },
        JSON.stringify(o),
      );
      assert.deepEqual(o.close, { closedWithError: false }, JSON.stringify(o));
    }
  });

  it('https.get downloads the file twice over one TLS connection, the certificate checked against the CA', async function () {
    const outcomes = await run('https-get', urls('https', HTTPS_PORT, '/blob.bin'));
    for (const o of outcomes) {
      const [first, second] = [o.first as Outcome, o.second as Outcome];
      assert.deepEqual(
        { ...bodyOf(first), reused: first.reused },
        { ...fileBody(), reused: false },
      );
      assert.deepEqual(
        { ...bodyOf(second), reused: second.reused },
        { ...fileBody(), reused: true },
      );
    }
    assert.equal(await engineActiveOpens(), 2);
  });

  it('fetch (undici and Node 20 global) with the engine dispatcher, over HTTP and HTTPS', async function () {
    const targets = [
      ...urls('http', HTTP_PORT, '/blob.bin'),
      ...urls('https', HTTPS_PORT, '/blob.bin'),
    ];
    const outcomes = await run('fetch', targets);
    for (const o of outcomes) {
      assert.equal(o.error, undefined, JSON.stringify(o));
      assert.deepEqual(bodyOf(o.undici as Outcome), fileBody(), o.url);
      assert.deepEqual(bodyOf(o.global as Outcome), fileBody(), o.url);
    }
    // One dispatcher per URL, shared by both fetches: undici reuses the first connection or,
    // when the second fetch comes before that connection is marked free (a setImmediate later,
    // the same over the kernel), opens one more; never more than one per fetch.
    const opens = await engineActiveOpens();
    assert.ok(opens >= targets.length && opens <= 2 * targets.length, `${opens} connections`);
  });

  it('undici.request through the engine dispatcher', async function () {
    const outcomes = await run('undici-request', urls('http', HTTP_PORT, '/blob.bin'));
    for (const o of outcomes) assert.deepEqual(bodyOf(o), fileBody(), JSON.stringify(o));
    assert.equal(await engineActiveOpens(), 2);
  });

  it('undici.request speaks HTTP/2 over TLS with allowH2 (ALPN h2), HTTP/1.1 without', async function () {
    const outcomes = await run('undici-h2', urls('https', H2_PORT, '/'));
    for (const o of outcomes) {
      assert.deepEqual(o.h2, { ...fileBody(), version: '2.0' }, JSON.stringify(o));
      assert.deepEqual(o.h1, { ...fileBody(), version: '1.1' }, JSON.stringify(o));
    }
    assert.equal(await engineActiveOpens(), 4);
  });

  it('tls.connect completes TLS 1.3 with openssl s_server and gets its echo', async function () {
    const outcomes = await run('tls-echo', urls('tls', TLS_ECHO_PORT));
    for (const o of outcomes) {
      assert.equal(o.protocol, 'TLSv1.3', JSON.stringify(o));
      assert.equal(o.authorized, true, JSON.stringify(o));
      assert.equal(o.reply, o.expected, JSON.stringify(o));
    }
    assert.equal(await engineActiveOpens(), 2);
  });

  it('fails with ECONNREFUSED on a closed port and ENOTFOUND for a host name', async function () {
    const outcomes = await run('errors', urls('http', CLOSED_PORT));
    for (const o of outcomes) {
      const { nameMessage, ...codes } = o;
      assert.deepEqual(
        codes,
        {
          url: o.url,
          httpRefused: 'ECONNREFUSED',
          httpName: 'ENOTFOUND',
          fetchRefused: 'ECONNREFUSED',
          fetchName: 'ENOTFOUND',
          tlsRefused: 'ECONNREFUSED',
          tlsName: 'ENOTFOUND',
        },
        JSON.stringify(o),
      );
      assert.match(String(nameMessage), /use an IP literal/);
    }
  });
});
