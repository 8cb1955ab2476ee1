// A worker that opens the shared neighbour table by its buffer and races the other workers:
// claims resolutions, looks entries up, or hammers one entry with writes and reads (torn-read
// check of the seqlock).
import { parentPort, workerData } from 'node:worker_threads';
import { NeighbourState, SharedNeighbourTable } from '../../ts/iface/neighbour-table.js';
import { EntrySnapshot, newKey, setKey4, W_DATA0, W_DATA1 } from '../../ts/iface/shared-table.js';

export interface TableJob {
  buffer: SharedArrayBuffer;
  /**
   * Int32 words: [0] both workers spin until both arrived, so they really run at the same time;
   * [1] the writer has finished; [2] the reader's successful reads so far.
   */
  gate: SharedArrayBuffer;
  role: 'claim' | 'lookup' | 'write' | 'read';
  worker: number;
  keys: number;
  iterations: number;
  /** The writer keeps writing until the reader has made this many reads (or 20 s pass). */
  minReads?: number;
}

export interface TableResult {
  won: number[];
  reachable: number;
  macsOk: number;
  torn: number;
  reads: number;
}

const job = workerData as TableJob;
const table = new SharedNeighbourTable(job.buffer);
const gate = new Int32Array(job.gate);
Atomics.add(gate, 0, 1);
while (Atomics.load(gate, 0) < 2);

const key = newKey();
const mac = new Uint8Array(6);
const result: TableResult = { won: [], reachable: 0, macsOk: 0, torn: 0, reads: 0 };
if (job.role === 'claim') {
  for (let i = 0; i < job.keys; i++) {
    if (table.startResolution(setKey4(key, 0xc6120000 + i), 0, job.worker) === 1)
      result.won.push(i);
  }
} else if (job.role === 'lookup') {
  for (let i = 0; i < job.keys; i++) {
    if (table.lookup(setKey4(key, 0xc6120000 + i), mac, 0) === NeighbourState.Reachable) {
      result.reachable++;
      if (mac[5] === (i & 0xff) && mac[4] === i >>> 8) result.macsOk++;
    }
  }
} else if (job.role === 'write') {
  // Straight at the table: lock, four fields (two of them non-atomic float64s), unlock.
  const t = table.table;
  const slot = t.find(setKey4(key, 0xc6129999));
  // Scheduling decides how often the reader gets in between writes, so the writer goes on until
  // the reader has had its share, not for a fixed number of writes alone.
  const deadline = Date.now() + 20_000;
  const minReads = job.minReads ?? 0;
  for (let i = 1; ; i++) {
    if (i > job.iterations && (Atomics.load(gate, 2) >= minReads || Date.now() > deadline)) break;
    t.lock(slot);
    t.setWord(slot, W_DATA0, i);
    t.setTime0(slot, i);
    t.setTime1(slot, i);
    t.setWord(slot, W_DATA1, i);
    t.unlock(slot);
  }
  Atomics.store(gate, 1, 1);
} else {
  const t = table.table;
  const slot = t.find(setKey4(key, 0xc6129999));
  const snap = new EntrySnapshot();
  while (Atomics.load(gate, 1) === 0) {
    if (!t.read(slot, key, snap)) continue;
    result.reads++;
    if ((result.reads & 255) === 0) Atomics.store(gate, 2, result.reads);
    if (snap.data0 !== snap.data1 || snap.time0 !== snap.data0 || snap.time1 !== snap.data0) {
      result.torn++;
    }
  }
}
parentPort?.postMessage(result);
