// An http.Server's life on the engine, as Node's API defines it, over IPv4 and IPv6: listen()'s
// callback and 'listening' (none when closed in the same tick), an abort signal closing it,
// address() at once, EADDRINUSE for a second server on the port, the errors listen() throws,
// close() closing idle keep-alive connections at once and emitting 'close' once the last
// connection is gone, getConnections(), ERR_SERVER_NOT_RUNNING, the port refusing connections
// afterwards, and maxConnections with its 'drop' event.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import type { Engine } from '../../ts/runtime/engine.js';
import { startEngineOnBed, stopEngineAndBed } from '../support/engine-on-bed.js';
import { runPeerPython } from '../support/peer-namespace.js';
import { readResult } from '../support/result-file.js';
import { PY_CLOSE_WITH_IDLE, PY_OVER_THE_LIMIT } from './peer-clients.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const lifecycleApp = path.join(here, 'apps/server-lifecycle.js');
const PORT = 8090;
const CURLE_COULDNT_CONNECT = 7;

describe('http: an http.Server listening and closing on the engine', function () {
  this.timeout(60000);
  let bed: TestBed | undefined;
  let engine: Engine | undefined;
  let dir: string | undefined;

  beforeEach(async function () {
    bed = await TestBed.up();
    dir = mkdtempSync(path.join(tmpdir(), 'xdpnet-http-life-'));
    process.env.XDPNET_HTTP_PORT = String(PORT);
    process.env.XDPNET_HTTP_RESULT_DIR = dir;
    engine = await startEngineOnBed(bed, lifecycleApp);
  });

  afterEach(async function () {
    const stopping = engine;
    engine = undefined;
    await stopEngineAndBed({ engine: stopping, bed, dir });
  });

  for (const family of ['IPv4', 'IPv6'] as const) {
    it(`listens and closes as Node's http.Server does (${family} client)`, async function () {
      const b = bed as TestBed;
      const host = family === 'IPv4' ? b.engineIpv4 : b.engineIpv6;
      const address = { address: '::', family: 'IPv6', port: PORT };
      assert.deepEqual(await readResult(path.join(dir as string, 'listen.json'), 10000), {
        listenCallback: true,
        listening: true,
        addressAtOnce: address,
        address,
        rival: { code: 'EADDRINUSE', syscall: 'listen', listening: false },
        again: { code: 'ERR_SERVER_ALREADY_LISTEN', name: 'Error' },
        badPort: { code: 'ERR_SOCKET_BAD_PORT', name: 'RangeError' },
        shortLived: { listeningEvents: 0, closeError: null },
      });
      assert.deepEqual(await readResult(path.join(dir as string, 'abort.json'), 5000), {
        listening: false,
      });

      const out = await runPeerPython(b, PY_CLOSE_WITH_IDLE, [host, String(PORT)], 20000);
      const client = JSON.parse(out) as Record<string, unknown>;
      assert.deepEqual(
        { ...client, idleClosedAfter: undefined },
        { first: true, answer: true, idleClosed: true, idleClosedAfter: undefined },
        out,
      );
      // close() closed the idle connection; its keep-alive timer (6 s) had no part in it.
      assert.ok((client.idleClosedAfter as number) < 1, out);

      const closed = await readResult(path.join(dir as string, 'close.json'), 10000);
      assert.deepEqual(closed, {
        connectionsBefore: 2,
        closeError: null,
        closeEventsAtCallback: 1,
        socketGoneAtClose: true,
        listening: false,
        address: null,
        secondCloseError: 'ERR_SERVER_NOT_RUNNING',
      });
      const urlHost = family === 'IPv4' ? host : `[${host}]`;
      const r = await b.exec(['curl', '-sS', '-g', '-m', '5', `http://${urlHost}:${PORT}/`], {
        timeoutMs: 10000,
      });
      assert.equal(r.code, CURLE_COULDNT_CONNECT, r.stderr);
    });

    it(`drops connections past maxConnections and emits 'drop' (${family} client)`, async function () {
      const b = bed as TestBed;
      const host = family === 'IPv4' ? b.engineIpv4 : b.engineIpv6;
      const out = await runPeerPython(b, PY_OVER_THE_LIMIT, [host, String(PORT + 1)], 20000);
      const r = JSON.parse(out) as { secondPort: number } & Record<string, unknown>;
      assert.deepEqual(
        r,
        { served: true, secondClosed: true, secondPort: r.secondPort, firstStillServed: true },
        out,
      );
      assert.deepEqual(await readResult(path.join(dir as string, 'drop.json'), 5000), {
        remotePort: r.secondPort,
        localPort: PORT + 1,
      });
    });
  }
});
