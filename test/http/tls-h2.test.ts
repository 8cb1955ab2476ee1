// TLS and HTTP/2 on the engine against the kernel peer's openssl and curl, over IPv4 and IPv6:
// the https example (with a certificate the test makes, and with the one it makes itself),
// http2.createServer in cleartext (curl --http2-prior-knowledge) and http2.createSecureServer
// (ALPN h2: openssl s_client, curl --insecure, two streams on one connection).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import { selfSignedCertificate, type CertificateFiles } from '../../ts/testbed/certificate.js';
import type { Engine } from '../../ts/runtime/engine.js';
import { startEngineOnBed, stopEngineAndBed } from '../support/engine-on-bed.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const httpsExample = path.join(here, '../../examples/https-server.js');
const h2App = path.join(here, 'apps/h2-servers.js');
const HTTPS_PORT = 8443;
const H2C_PORT = 8082;
const H2_TLS_PORT = 8444;
const SUBJECT = 'xdpnet-test';

/** A self-signed certificate for the engine's two addresses; returns the PEM file paths. */
function makeCertificate(dir: string, bed: TestBed): CertificateFiles {
  return selfSignedCertificate(dir, SUBJECT, [`IP:${bed.engineIpv4}`, `IP:${bed.engineIpv6}`]);
}

describe('http: TLS and HTTP/2 servers on the engine, kernel clients', function () {
  this.timeout(120000);
  let bed: TestBed | undefined;
  let engine: Engine | undefined;
  let dir: string | undefined;
  let pem: { key: string; cert: string };
  /** The engine's addresses as openssl's -connect and as curl's URLs take them. */
  let hosts: { connect: (port: number) => string; url: (scheme: string, port: number) => string }[];

  before(async function () {
    bed = await TestBed.up();
    dir = mkdtempSync(path.join(tmpdir(), 'xdpnet-tls-'));
    pem = makeCertificate(dir, bed);
    hosts = [bed.engineIpv4, `[${bed.engineIpv6}]`].map((h) => ({
      connect: (port) => `${h}:${port}`,
      url: (scheme, port) => `${scheme}://${h}:${port}/`,
    }));
  });

  afterEach(async function () {
    const stopping = engine;
    engine = undefined;
    await stopEngineAndBed({ engine: stopping, bed: undefined });
  });

  after(async function () {
    await stopEngineAndBed({ engine: undefined, bed, dir });
  });

  async function peer(argv: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
    const r = await (bed as TestBed).exec(argv, { timeoutMs: 20000, input });
    assert.equal(r.code, 0, `${argv.join(' ')}\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  /** curl's body and the HTTP version it spoke (-w %{http_version}), split by a marker. */
  async function curl(args: string[]): Promise<{ body: string; version: string }> {
    const r = await peer(['curl', '-sS', '-g', '-m', '10', '-w', '\n@%{http_version}', ...args]);
    const at = r.stdout.lastIndexOf('\n@');
    return { body: r.stdout.slice(0, at), version: r.stdout.slice(at + 2) };
  }

  it('https example: openssl s_client completes TLS 1.3 with our certificate and gets a 200', async function () {
    process.env.HTTPS_KEY = pem.key;
    process.env.HTTPS_CERT = pem.cert;
    engine = await startEngineOnBed(bed as TestBed, httpsExample);
    for (const h of hosts) {
      const request = 'GET / HTTP/1.1\r\nHost: engine\r\nConnection: close\r\n\r\n';
      const argv = ['openssl', 's_client', '-connect', h.connect(HTTPS_PORT), '-ign_eof'];
      const r = await peer([...argv, '-CAfile', pem.cert, '-verify_return_error'], request);
      assert.match(r.stdout, new RegExp(`subject=CN ?= ?${SUBJECT}`), r.stdout);
      assert.match(r.stdout, /New, TLSv1.3, Cipher is/, r.stdout);
      assert.match(r.stdout, /Verify return code: 0 \(ok\)/, r.stdout);
      assert.match(
        r.stdout,
        /HTTP\/1.1 200 OK[\s\S]*Hello from xdpnet over TLS \(HTTP\/1.1\)/,
        r.stdout,
      );
      const c = await curl(['--insecure', h.url('https', HTTPS_PORT)]);
      assert.deepEqual(c, { body: 'Hello from xdpnet over TLS (HTTP/1.1)\n', version: '1.1' });
    }
  });

  it('https example: makes itself a self-signed certificate when given none', async function () {
    delete process.env.HTTPS_KEY;
    delete process.env.HTTPS_CERT;
    engine = await startEngineOnBed(bed as TestBed, httpsExample);
    for (const h of hosts) {
      const c = await curl(['--insecure', '-v', h.url('https', HTTPS_PORT)]);
      assert.equal(c.body, 'Hello from xdpnet over TLS (HTTP/1.1)\n');
      // Without --insecure, curl refuses it: it is self-signed, not ours.
      const strict = await (bed as TestBed).exec(
        ['curl', '-sS', '-g', '-m', '10', '--cacert', pem.cert, h.url('https', HTTPS_PORT)],
        { timeoutMs: 20000 },
      );
      assert.equal(strict.code, 60, strict.stderr); // CURLE_PEER_FAILED_VERIFICATION
    }
  });

  it('http2: cleartext with prior knowledge, and over TLS with ALPN h2', async function () {
    Object.assign(process.env, {
      XDPNET_H2C_PORT: String(H2C_PORT),
      XDPNET_H2_TLS_PORT: String(H2_TLS_PORT),
      XDPNET_TLS_KEY: pem.key,
      XDPNET_TLS_CERT: pem.cert,
    });
    engine = await startEngineOnBed(bed as TestBed, h2App);
    for (const h of hosts) {
      const h2c = await curl(['--http2-prior-knowledge', `${h.url('http', H2C_PORT)}clear`]);
      assert.deepEqual(h2c, { body: 'HTTP/2.0 GET /clear\n', version: '2' });
      const h2 = await curl(['--insecure', '--http2', `${h.url('https', H2_TLS_PORT)}secure`]);
      assert.deepEqual(h2, { body: 'HTTP/2.0 GET /secure\n', version: '2' });
      // Two requests, one HTTP/2 connection: the second is a new stream on it. (Over TLS: curl
      // 7.88 fails the second stream of a prior-knowledge connection, to Node on the kernel too.)
      const urls = ['one', 'two'].map((p) => `${h.url('https', H2_TLS_PORT)}${p}`);
      const both = await peer(['curl', '-sSvg', '-m', '10', '--insecure', '--http2', ...urls]);
      assert.equal(both.stdout, 'HTTP/2.0 GET /one\nHTTP/2.0 GET /two\n');
      assert.match(both.stderr, /Re-using existing connection/, both.stderr);
      const argv = ['openssl', 's_client', '-connect', h.connect(H2_TLS_PORT), '-alpn', 'h2'];
      const r = await peer([...argv, '-CAfile', pem.cert, '-verify_return_error'], '');
      assert.match(r.stdout, /ALPN protocol: h2/, r.stdout);
      assert.match(r.stdout, /Verify return code: 0 \(ok\)/, r.stdout);
    }
  });
});
