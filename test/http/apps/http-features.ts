// Test app for test/http/http1.test.ts: Node's http server on the engine with the routes the
// test drives from the kernel peer. What only the server can see (the digest of what it sent, a
// response cut short) goes to one JSON file per test id in XDPNET_HTTP_RESULT_DIR.
//   GET  /chunked?bytes=N   N pseudo-random bytes, chunked (no Content-Length)
//   GET  /slow              64 KiB every 20 ms for 10 s: a response a client can walk away from
//   POST /upload            the body's SHA-256 and length, as JSON
//   GET  /socket            the connection as the server's socket sees it, as JSON
//   GET  anything else      "<method> <url>\n", with X-Client-Port (the connection's peer port)
// The request header X-Test-Id names the result file. headersTimeout is 1 s, requestTimeout 3 s
// (both checked every 100 ms) and keepAliveTimeout 2 s, so the test can watch each cut a
// connection off.
import { createHash, randomFillSync } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { http } from '../../../ts/index.js';

const port = Number(process.env.XDPNET_HTTP_PORT ?? 8080);
const resultDir = process.env.XDPNET_HTTP_RESULT_DIR ?? '';
const CHUNK = 64 * 1024;

function report(req: IncomingMessage, what: object): void {
  const id = String(req.headers['x-test-id'] ?? 'unnamed');
  const file = path.join(resultDir, `${id}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(what));
  renameSync(`${file}.tmp`, file); // the test never reads half a file
}

function upload(req: IncomingMessage, res: ServerResponse): void {
  const sha = createHash('sha256');
  let bytes = 0;
  req.on('data', (d: Buffer) => {
    sha.update(d);
    bytes += d.length;
  });
  req.on('end', () => {
    const digest = sha.digest('hex');
    report(req, { sha256: digest, bytes });
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ sha256: digest, bytes }));
  });
}

/** Writes `total` random bytes without a length (chunked), waiting for 'drain' when told to. */
function chunked(req: IncomingMessage, res: ServerResponse, total: number): void {
  const sha = createHash('sha256');
  let sent = 0;
  res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
  const pump = (): void => {
    while (sent < total) {
      const piece = randomFillSync(Buffer.allocUnsafe(Math.min(CHUNK, total - sent)));
      sha.update(piece);
      sent += piece.length;
      if (!res.write(piece)) return void res.once('drain', pump);
    }
    report(req, { sha256: sha.digest('hex'), bytes: sent });
    res.end();
  };
  pump();
}

function slow(req: IncomingMessage, res: ServerResponse): void {
  let sent = 0;
  res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
  const timer = setInterval(() => {
    res.write(Buffer.alloc(CHUNK, 0x61));
    sent += CHUNK;
    if (sent >= 500 * CHUNK) {
      clearInterval(timer);
      res.end();
    }
  }, 20);
  res.on('close', () => {
    clearInterval(timer);
    report(req, { finished: res.writableFinished, sent, aborted: req.destroyed });
  });
}

/** What Node's http reads of the connection, as the server's socket reports it. */
function socketFacts(req: IncomingMessage, res: ServerResponse): void {
  const s = req.socket;
  res.setHeader('Content-Type', 'application/json');
  res.end(
    JSON.stringify({
      remote: [s.remoteAddress, s.remotePort, s.remoteFamily],
      local: [s.localAddress, s.localPort],
      readyState: s.readyState,
      bytesRead: s.bytesRead,
      // The requests before this one were answered: their bytes went out.
      bytesWritten: s.bytesWritten,
    }),
  );
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://engine');
  if (req.method === 'POST' && url.pathname === '/upload') return upload(req, res);
  if (url.pathname === '/chunked') return chunked(req, res, Number(url.searchParams.get('bytes')));
  if (url.pathname === '/slow') return slow(req, res);
  if (url.pathname === '/socket') return socketFacts(req, res);
  res.setHeader('X-Client-Port', String(req.socket.remotePort));
  res.setHeader('Content-Type', 'text/plain');
  res.end(`${req.method} ${req.url}\n`);
}

const server = http.createServer(
  {
    headersTimeout: 1000,
    requestTimeout: 3000,
    connectionsCheckingInterval: 100,
    keepAliveTimeout: 2000,
  },
  handle,
);
// Only with a listener does Node leave the interim response to the app: the test checks it ran.
server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
  res.setHeader('X-Saw-Expect', String(req.headers.expect));
  res.writeContinue();
  handle(req, res);
});
server.on('error', (err) => process.stderr.write(`http-features: ${err.message}\n`));
server.listen(port);
