// Test app for test/tcp-kernel/transfer.test.ts: a half-close transfer in either role. The client
// sends XDPNET_B1_UP bytes and shuts down writing; the server reads to EOF, then answers with
// XDPNET_B1_DOWN bytes and closes. Each side hashes what it generates and what it receives on its
// own, so the test compares digests computed at both ends (never a copy of the data).
//   XDPNET_B1_MODE     server | client
//   XDPNET_B1_PORT     server: the port to listen on (both families)
//   XDPNET_B1_TARGETS  client: host:port,... ([v6]:port) connected to one after another
//   XDPNET_B1_RESULT   per connection i, `${result}-${i}.json` gets the outcome (see Outcome)
import { createHash, randomFillSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { net } from '../../../ts/index.js';

const mode = process.env.XDPNET_B1_MODE ?? '';
const up = Number(process.env.XDPNET_B1_UP ?? 0);
const down = Number(process.env.XDPNET_B1_DOWN ?? 0);
const resultFile = process.env.XDPNET_B1_RESULT ?? '';
const CHUNK = 64 * 1024;

interface Outcome {
  sentSha: string;
  sentBytes: number;
  recvSha: string;
  recvBytes: number;
  /** Server: EOF arrived before the reply started (the client's half-close was seen). */
  eofBeforeReply: boolean;
  family: string | undefined;
  /** Client: from connect() to the end of the handshake. */
  connectMs?: number;
  error: string | null;
}

/** Runs one side of the exchange on `s`; `onDone` gets the outcome once the socket closes. */
function exchange(s: net.Socket, role: 'server' | 'client', onDone: (o: Outcome) => void): void {
  const sent = createHash('sha256');
  const recv = createHash('sha256');
  let sentBytes = 0;
  let recvBytes = 0;
  let eof = false;
  let eofBeforeReply = false;
  let error: string | null = null;
  let connectMs: number | undefined;
  const t0 = performance.now();
  const total = role === 'client' ? up : down;
  const pump = (): void => {
    while (sentBytes < total) {
      // A fresh buffer per write: the socket may keep a reference until the data is queued.
      const piece = randomFillSync(Buffer.allocUnsafe(Math.min(CHUNK, total - sentBytes)));
      sent.update(piece);
      sentBytes += piece.length;
      if (!s.write(piece)) return;
    }
    s.removeListener('drain', pump);
    s.end();
  };
  const startSending = (): void => {
    s.on('drain', pump);
    pump();
  };
  s.on('data', (d: Buffer) => {
    recv.update(d);
    recvBytes += d.length;
  });
  s.on('end', () => {
    eof = true;
    if (role === 'server') {
      eofBeforeReply = sentBytes === 0;
      startSending();
    }
  });
  s.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
  s.on('close', () => {
    if (error === null && !eof) error = 'closed before EOF';
    onDone({
      sentSha: sent.digest('hex'),
      sentBytes,
      recvSha: recv.digest('hex'),
      recvBytes,
      eofBeforeReply,
      family: s.remoteFamily,
      connectMs,
      error,
    });
  });
  if (role === 'client') {
    s.on('connect', () => {
      connectMs = performance.now() - t0;
      startSending();
    });
  }
}

function report(i: number, o: Outcome): void {
  writeFileSync(`${resultFile}-${i}.json`, JSON.stringify(o));
}

function serve(): void {
  let n = 0;
  net
    .createServer({ allowHalfOpen: true }, (s) => {
      const i = n++;
      exchange(s, 'server', (o) => report(i, o));
    })
    .listen(Number(process.env.XDPNET_B1_PORT ?? 0), () =>
      writeFileSync(`${resultFile}-listening`, ''),
    );
}

function connectAll(targets: string[], i: number): void {
  if (i >= targets.length) return;
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(targets[i]);
  if (m === null) throw new Error(`bad target ${targets[i]}`);
  const s = net.connect({ host: m[1], port: Number(m[2]), allowHalfOpen: true });
  exchange(s, 'client', (o) => {
    report(i, o);
    connectAll(targets, i + 1);
  });
}

if (resultFile !== '') {
  if (mode === 'server') serve();
  else if (mode === 'client') connectAll((process.env.XDPNET_B1_TARGETS ?? '').split(','), 0);
}
