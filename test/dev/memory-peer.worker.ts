// One end of a memory pair in a worker_thread: sends `count` test frames to the peer while
// receiving and checking the peer's, then reports what arrived. Runs the same loop a stack
// would: receive, release, allocate, send, flush, reap.
import { parentPort, workerData } from 'node:worker_threads';
import { MemoryPort, type MemoryAudit } from '../../ts/dev/memory/memory-port.js';
import type { MemoryPortConfig } from '../../ts/dev/memory/pair-layout.js';
import type { MemoryCounters } from '../../ts/dev/memory/counters.js';
import { checkFrame, writeFrame } from './frames.js';

export interface PeerJob {
  port: MemoryPortConfig;
  count: number;
  /** [0]: a has sent everything and its fault stage is empty, [1]: the same for b. */
  done: SharedArrayBuffer;
}

export interface PeerResult {
  side: 'a' | 'b';
  /** Sequence numbers received, in order (-1 for a frame that failed the byte check). */
  received: number[];
  audit: MemoryAudit;
  counters: MemoryCounters;
}

const job = workerData as PeerJob;
const port = new MemoryPort(job.port);
const me = job.port.index;
const peer = 1 - me;
const done = new Int32Array(job.done);
const received: number[] = [];
let sent = 0;
let finished = false;

function receiveAll(): number {
  const n = port.receive();
  for (let i = 0; i < n; i++) {
    const addr = port.rxDesc[2 * i];
    received.push(checkFrame(port.bytes, port.umemOffset + addr, port.rxDesc[2 * i + 1], peer));
    port.release(addr);
  }
  return n;
}

const giveUp = performance.now() + 40_000;
for (;;) {
  if (performance.now() > giveUp) {
    throw new Error(
      `port ${job.port.side} stuck: sent ${sent}, received ${received.length}, ` +
        `pending ${port.pendingTx}, free ${port.freeFrames}, peer done ${Atomics.load(done, peer)}`,
    );
  }
  receiveAll();
  port.reap();
  // Keep one frame spare so a duplicate always finds a frame: the outcome must not depend on
  // how far the peer has got with returning frames.
  for (let k = 0; k < port.batch && sent < job.count && port.freeFrames >= 2; k++) {
    const frame = port.allocate();
    const addr = frame + port.txDataOffset;
    port.send(addr, writeFrame(port.bytes, port.umemOffset + addr, me, sent++));
  }
  port.flush();
  if (!finished && sent === job.count) {
    // Let packets still held for reordering go now rather than after a real-time timeout.
    port.setFaults({ reorderHoldMs: 0 });
    port.flush();
    if (port.pendingTx === 0) {
      finished = true;
      Atomics.store(done, me, 1);
    }
  }
  if (finished && Atomics.load(done, peer) === 1) {
    // The peer put its last packet in the ring before raising its flag: drain and stop.
    while (receiveAll() > 0);
    break;
  }
}
port.reap();
const result: PeerResult = {
  side: job.port.side,
  received,
  audit: port.audit(),
  counters: port.counters,
};
parentPort!.postMessage(result);
