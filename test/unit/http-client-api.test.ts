// The client API's own logic, without a network: which agent each form of http.request/get and
// https.get ends up with, and that every client fails a host name (the engine has no DNS) with
// ENOTFOUND and a message saying to use an IP literal — before any engine stack is needed; and
// that the undici connector runs TLS over a socket undici hands it (a proxy tunnel) instead of
// dialling (the tunnel here is a kernel connection to a TLS server on loopback).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import * as nodeNet from 'node:net';
import * as nodeTls from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { http, https, tls, undici } from '../../ts/index.js';
import { ipLiteral } from '../../ts/api/http/dial.js';
import { selfSignedCertificate } from '../../ts/testbed/certificate.js';

const NAME = 'peer.invalid';
const IP_LITERAL_HINT = /xdpnet has no DNS: use an IP literal/;

/** The error a request fails with (the host is a name, so it always fails). */
function failure(req: ClientRequest): Promise<NodeJS.ErrnoException> {
  return new Promise((resolve) => req.on('error', resolve));
}

function assertNotFound(err: NodeJS.ErrnoException): void {
  assert.equal(err.code, 'ENOTFOUND');
  assert.match(err.message, IP_LITERAL_HINT);
}

describe('http-client API (no engine needed)', () => {
  it('gives every form of http.request and http.get the engine agent', async () => {
    const url = `http://${NAME}:8080/x`;
    const forms: ClientRequest[] = [
      http.get(url),
      http.get(new URL(url), () => {}),
      http.get(url, { headers: { a: '1' } }, () => {}),
      http.get({ host: NAME, port: 8080, path: '/x' }),
      http.request({ host: NAME, port: 8080, path: '/x', agent: undefined }).end(),
    ];
    const failures = forms.map(failure); // listening at once: they fail on the next tick
    for (const req of forms) {
      assert.equal((req as ClientRequest & { agent: unknown }).agent, http.globalAgent);
    }
    for (const err of await Promise.all(failures)) assertNotFound(err);
  });

  it('keeps an agent the request names, and makes a fresh engine agent for agent: false', async () => {
    const mine = new http.Agent({ keepAlive: true });
    const named = http.get(`http://${NAME}/`, { agent: mine });
    const fresh = http.get(`http://${NAME}/`, { agent: false });
    const failures = [failure(named), failure(fresh)];
    const agentOf = (r: ClientRequest): unknown => (r as ClientRequest & { agent: unknown }).agent;
    assert.equal(agentOf(named), mine);
    assert.ok(agentOf(fresh) instanceof http.Agent);
    assert.notEqual(agentOf(fresh), http.globalAgent);
    for (const err of await Promise.all(failures)) assertNotFound(err);
    mine.destroy();
  });

  it('gives https.get the engine https agent; its TLS dial fails the name', async () => {
    const req = https.get(`https://${NAME}/`);
    assert.equal((req as ClientRequest & { agent: unknown }).agent, https.globalAgent);
    assertNotFound(await failure(req));
  });

  it('fails tls.connect, fetch and undici.request to a name with ENOTFOUND', async () => {
    const socket = tls.connect({ host: NAME, port: 443 });
    assertNotFound(await new Promise((resolve) => socket.on('error', resolve)));
    const fetchErr = await undici.fetch(`http://${NAME}/`).then(
      () => assert.fail('fetch succeeded'),
      (e: Error & { cause: NodeJS.ErrnoException }) => e,
    );
    assertNotFound(fetchErr.cause);
    const requestErr = await undici.request(`https://${NAME}/`).then(
      () => assert.fail('request succeeded'),
      (e: NodeJS.ErrnoException) => e,
    );
    assertNotFound(requestErr);
  });

  it("runs TLS over undici's httpSocket (a proxy tunnel) instead of dialling the host", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'xdpnet-httpc-unit-'));
    let server: nodeTls.Server | undefined;
    let tunnel: nodeNet.Socket | undefined;
    try {
      const { key, cert } = selfSignedCertificate(dir, NAME, [`DNS:${NAME}`]);
      const tlsFiles = { key: readFileSync(key), cert: readFileSync(cert) };
      server = nodeTls.createServer(tlsFiles, (s) => s.end('through the tunnel'));
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      const { port } = server.address() as nodeNet.AddressInfo;
      tunnel = nodeNet.connect(port, '127.0.0.1');
      await new Promise((r) => tunnel!.once('connect', r));
      const connect = undici.connector({ ca: tlsFiles.cert, timeout: 5000 });
      const opts = { protocol: 'https:', hostname: NAME, port: '443', httpSocket: tunnel };
      const socket = await new Promise<nodeTls.TLSSocket>((resolve, reject) =>
        connect(opts, (err, s) => (err ? reject(err) : resolve(s as nodeTls.TLSSocket))),
      );
      assert.equal(socket.authorized, true);
      let text = '';
      for await (const chunk of socket) text += String(chunk);
      assert.equal(text, 'through the tunnel');
    } finally {
      tunnel?.destroy();
      server?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes IP literals bare or bracketed, and nothing else', () => {
    assert.equal(ipLiteral('198.18.0.2'), '198.18.0.2');
    assert.equal(ipLiteral('[2001:2::2]'), '2001:2::2');
    assert.equal(ipLiteral('2001:2::2'), '2001:2::2');
    assert.equal(ipLiteral('localhost'), null);
    assert.equal(ipLiteral('[198.18.0.2'), null);
  });
});
