// Test app for the engine: connects to XDPNET_TEST_TARGET (host:port, host may be IPv6 in
// brackets), sends XDPNET_TEST_BYTES of a fixed pattern, half-closes, reads until the peer ends
// and writes {sentSha, recvSha, recvBytes, error} as JSON to XDPNET_TEST_RESULT.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { net } from '../../../ts/index.js';

const target = process.env.XDPNET_TEST_TARGET ?? '';
const total = Number(process.env.XDPNET_TEST_BYTES ?? 0);
const resultFile = process.env.XDPNET_TEST_RESULT ?? '';
const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
if (m !== null && resultFile !== '') {
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 131 + (i >>> 8)) & 0xff;
  const sent = createHash('sha256');
  const recv = createHash('sha256');
  let recvBytes = 0;
  let done = false;
  const finish = (error: string | null): void => {
    if (done) return;
    done = true;
    const out = { sentSha: sent.digest('hex'), recvSha: recv.digest('hex'), recvBytes, error };
    writeFileSync(resultFile, JSON.stringify(out));
  };
  const s = net.connect({ host: m[1], port: Number(m[2]), allowHalfOpen: true });
  let written = 0;
  const pump = (): void => {
    while (written < total) {
      const n = Math.min(chunk.length, total - written);
      const piece = n === chunk.length ? chunk : chunk.subarray(0, n);
      sent.update(piece);
      written += n;
      if (!s.write(piece)) return;
    }
    s.end();
  };
  s.on('connect', pump);
  s.on('drain', pump);
  s.on('data', (d: Buffer) => {
    recv.update(d);
    recvBytes += d.length;
  });
  s.on('end', () => finish(null));
  s.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
}
