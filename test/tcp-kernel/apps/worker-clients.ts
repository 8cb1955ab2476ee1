// Test app for test/tcp-kernel/workers.test.ts: every engine worker opens XDPNET_TW_COUNT
// connections at once to the kernel echo server XDPNET_TW_TARGET (host:port), sends each its own
// message, checks the echo, closes, and writes {worker, ok, failed, errors} as JSON to
// `${XDPNET_TW_RESULT}.${workerId}`. The replies only come back if connect() picked an ephemeral
// port whose RSS hash leads to this worker.
import { writeFileSync } from 'node:fs';
import { net } from '../../../ts/index.js';
import { workerStack } from '../../../ts/api/worker-stack.js';

const target = /^\[?([^\]]+?)\]?:(\d+)$/.exec(process.env.XDPNET_TW_TARGET ?? '');
const count = Number(process.env.XDPNET_TW_COUNT ?? 0);
const resultBase = process.env.XDPNET_TW_RESULT ?? '';
const worker = workerStack().workerId;

function exchange(host: string, port: number, i: number): Promise<string | null> {
  return new Promise((resolve) => {
    const msg = `worker-${worker}-conn-${i};`;
    let got = '';
    const s = net.connect({ host, port });
    s.setTimeout(15000, () => s.destroy(new Error('ETIMEDOUT: no echo within 15 s')));
    s.on('connect', () => s.write(msg));
    s.on('data', (b: Buffer) => {
      got += b.toString();
      if (got.length >= msg.length) s.end();
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    s.on('close', () => resolve(got === msg ? null : `echo mismatch: ${got}`));
  });
}

async function main(host: string, port: number): Promise<void> {
  const results = await Promise.all(
    Array.from({ length: count }, (_, i) => exchange(host, port, i)),
  );
  const errors = results.filter((r): r is string => r !== null);
  const out = {
    worker,
    ok: count - errors.length,
    failed: errors.length,
    errors: errors.slice(0, 5),
  };
  writeFileSync(`${resultBase}.${worker}`, JSON.stringify(out));
}

if (target !== null && resultBase !== '' && count > 0) {
  void main(target[1], Number(target[2]));
}
