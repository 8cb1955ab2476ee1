// Test app for test/http/lifecycle.test.ts: an http.Server's life on the engine as Node's API
// defines it. It listens on XDPNET_HTTP_PORT, then reports (listen.json in
// XDPNET_HTTP_RESULT_DIR) what listen() gave: the callback, `listening`, address(), a second
// server's EADDRINUSE, the errors listen() throws. GET /close-server closes the server while the
// request is in flight; close.json then tells what close() and getConnections() did, and whether
// 'close' waited for that request's connection to go. A second server on the next port takes
// one connection at most (maxConnections 1) and reports the one it drops in drop.json.
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { http } from '../../../ts/index.js';

const port = Number(process.env.XDPNET_HTTP_PORT);
const resultDir = process.env.XDPNET_HTTP_RESULT_DIR ?? '';

function report(name: string, what: object): void {
  const file = path.join(resultDir, `${name}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(what));
  renameSync(`${file}.tmp`, file);
}

/** The code (and constructor) of what `f` throws; null when it throws nothing. */
function thrown(f: () => void): { code: string; name: string } | null {
  try {
    f();
    return null;
  } catch (err) {
    return { code: (err as { code: string }).code, name: (err as Error).name };
  }
}

/** Closes `server` while the request on `socket` is in flight; `respond` answers it. */
function closeServer(server: Server, socket: Socket, respond: () => void): void {
  server.getConnections((err, before) => {
    let closeEvents = 0;
    let socketGoneAtClose = false;
    server.on('close', () => {
      closeEvents++;
      socketGoneAtClose ||= socket.destroyed;
    });
    server.close((closeErr) => {
      const closeEventsAtCallback = closeEvents;
      // A second close() finds nothing running (and emits 'close' once more, as Node does).
      server.close((again) => {
        report('close', {
          connectionsBefore: err ? -1 : before,
          closeError: closeErr ?? null,
          closeEventsAtCallback,
          socketGoneAtClose,
          listening: server.listening,
          address: server.address(),
          secondCloseError: (again as { code?: string } | undefined)?.code ?? null,
        });
      });
    });
    respond();
  });
}

const server = http.createServer((req, res) => {
  if (req.url === '/close-server') {
    return closeServer(server, req.socket, () => res.end('closing\n'));
  }
  res.end('idle\n');
});

// Closed in the same tick as it listened: as in Node, no 'listening', and close() succeeds.
const shortLived = { listeningEvents: 0, closeError: 'not called' as unknown };
const quick = http.createServer();
quick.on('listening', () => shortLived.listeningEvents++);
quick.listen(port + 2).close((err) => (shortLived.closeError = err ?? null));

// listen({ signal }): aborting the signal closes the server.
const abort = new AbortController();
const abortable = http.createServer();
abortable.on('listening', () => abort.abort());
abortable.on('close', () => report('abort', { listening: abortable.listening }));
abortable.listen({ port: port + 3, signal: abort.signal });

let listenCallback = false;
server.listen(port, () => {
  listenCallback = true;
});
const addressAtOnce = server.address();

server.once('listening', () => {
  const rival = http.createServer();
  rival.once('error', (err: NodeJS.ErrnoException) => {
    report('listen', {
      listenCallback,
      listening: server.listening,
      addressAtOnce,
      address: server.address(),
      rival: { code: err.code, syscall: err.syscall, listening: rival.listening },
      again: thrown(() => server.listen(port + 1)),
      badPort: thrown(() => http.createServer().listen(70000)),
      shortLived,
    });
  });
  rival.listen(port);
});

const limited = http.createServer((_req, res) => res.end('limited\n'));
limited.maxConnections = 1;
limited.on('drop', (info: { remotePort: number; remoteFamily: string; localPort: number }) => {
  report('drop', { remotePort: info.remotePort, localPort: info.localPort });
});
limited.listen(port + 1);
