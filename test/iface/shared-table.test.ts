// The shared neighbour table across worker_threads: concurrent claims give exactly one resolver
// per neighbour, what one thread learns every thread sees, and readers never see a torn entry.
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { SharedNeighbourTable } from '../../ts/iface/neighbour-table.js';
import { newKey, setKey4 } from '../../ts/iface/shared-table.js';
import type { TableJob, TableResult } from './table.worker.js';

function runPair(jobs: Omit<TableJob, 'gate'>[]): Promise<TableResult[]> {
  const gate = new SharedArrayBuffer(12);
  return Promise.all(
    jobs.map(
      (job) =>
        new Promise<TableResult>((resolve, reject) => {
          const w = new Worker(new URL('./table.worker.js', import.meta.url), {
            workerData: { ...job, gate },
          });
          w.once('message', resolve);
          w.once('error', reject);
          w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
        }),
    ),
  );
}

describe('iface: shared neighbour table across worker_threads', function () {
  this.timeout(30_000);

  it('gives each neighbour exactly one resolving worker, and both see what is learnt', async function () {
    const table = SharedNeighbourTable.create(1024);
    const keys = 700;
    const common = { buffer: table.buffer, keys, iterations: 0 };
    const [a, b] = await runPair([
      { ...common, role: 'claim', worker: 0 },
      { ...common, role: 'claim', worker: 1 },
    ]);
    assert.equal(a.won.length + b.won.length, keys, 'one claim per neighbour');
    assert.equal(new Set([...a.won, ...b.won]).size, keys, 'no neighbour claimed twice');
    assert.equal(table.table.size(), keys, 'one entry per neighbour');
    // The main thread (a third "worker") learns every address; both workers see it.
    const key = newKey();
    const mac = new Uint8Array(6);
    for (let i = 0; i < keys; i++) {
      mac.set([2, 0, 0, 0, i >>> 8, i & 0xff]);
      table.confirm(setKey4(key, 0xc6120000 + i), mac, 0, 1, true, false, true);
    }
    const seen = await runPair([
      { ...common, role: 'lookup', worker: 0 },
      { ...common, role: 'lookup', worker: 1 },
    ]);
    for (const r of seen) {
      assert.equal(r.reachable, keys);
      assert.equal(r.macsOk, keys);
    }
  });

  it('never shows a reader a torn entry while another thread rewrites it', async function () {
    const table = SharedNeighbourTable.create(64);
    const key = setKey4(newKey(), 0xc6129999);
    table.setPermanent(key, new Uint8Array(6), 0);
    const common = { buffer: table.buffer, keys: 0, iterations: 2_000_000, minReads: 20_000 };
    const [, reader] = await runPair([
      { ...common, role: 'write', worker: 0 },
      { ...common, role: 'read', worker: 1 },
    ]);
    assert.ok(reader.reads > 1000, `reader ran alongside (${reader.reads} reads)`);
    assert.equal(reader.torn, 0);
  });
});
