// One-way TCP bulk transfer between two Interface + TcpStack engines on a MemoryPair, in ONE
// thread, on the real clock: where a data segment's time goes with nothing but the stack in the
// way (no kernel, no worker hand-off). MTU 1500; checksums are computed on send and verified on
// receive as in production. Each pass drives both engines with the worker loop's calls
// (ts/runtime/stack-worker.ts), and the application side uses the TCB directly from the stack's
// event hook (TcpConn.user), as the socket layer would.
//
// Run: npx tsc -p tsconfig.json && node dist/perf/bench/tcp-memory.bench.js [MiB]
// Profile: node --cpu-prof --cpu-prof-dir=/tmp/prof dist/perf/bench/tcp-memory.bench.js

import { MemoryPair } from '../../ts/dev/memory/memory-pair.js';
import type { MemoryPort } from '../../ts/dev/memory/memory-port.js';
import { Interface } from '../../ts/iface/interface.js';
import type { InterfaceConfig } from '../../ts/iface/config.js';
import { SharedNeighbourTable } from '../../ts/iface/neighbour-table.js';
import { TcpEvent } from '../../ts/socket/tcp/host.js';
import { TcpStack } from '../../ts/socket/tcp/tcp-stack.js';
import type { TcpConn } from '../../ts/socket/tcp/tcp-conn.js';
import { parseIpv4Address } from '../../ts/wire/address.js';
import { threadCpuSeconds } from '../../ts/worker/thread-cpu.js';

const MIB = 1024 * 1024;
const total = Number(process.argv[2] ?? 200) * MIB;
const PORT = 9000;
const A4 = '198.18.15.1';
const B4 = '198.18.15.2';
const A_MAC = '02:00:00:00:00:1a';
const B_MAC = '02:00:00:00:00:1b';

function ifaceConfig(mac: string, v4: string, peer4: string, peerMac: string): InterfaceConfig {
  return {
    mac,
    mtu: 1500,
    ipv4: [`${v4}/24`],
    dad: false,
    gratuitousArp: 0,
    staticNeighbours: [{ ip: peer4, mac: peerMac }],
  };
}

interface Engine {
  port: MemoryPort;
  iface: Interface;
  tcp: TcpStack;
}

function engine(port: MemoryPort, config: InterfaceConfig): Engine {
  const iface = new Interface(port, config, { neighbours: SharedNeighbourTable.create(64) });
  // Buffers big enough that the window, not the application, limits the flight.
  const tcp = new TcpStack(iface, {
    config: { sendBufferBytes: 4 * MIB, receiveBufferBytes: 1 * MIB },
  });
  return { port, iface, tcp };
}

/** One pass of the worker loop (stack-worker.ts's poll, then its settle). */
function pass(e: Engine): number {
  const { tcp, iface } = e;
  tcp.beginBatch();
  let n: number;
  try {
    n = iface.poll();
  } finally {
    tcp.endBatch();
  }
  n += tcp.runTimers(tcp.clock.now(), e.port.batch);
  tcp.sendOwedAcks();
  return n;
}

const pair = MemoryPair.open({ framesPerPort: 4096, ringSize: 2048 });
const a = engine(pair.a, ifaceConfig(A_MAC, A4, B4, B_MAC));
const b = engine(pair.b, ifaceConfig(B_MAC, B4, A4, A_MAC));

const chunk = new Uint8Array(64 * 1024);
for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 131 + 7) & 0xff;
const sink = new Uint8Array(256 * 1024);

let sent = 0;
let received = 0;

/** Fills the send buffer from the chunk (the app's write loop on Connected and Writable). */
function pump(c: TcpConn): void {
  const tcb = c.tcb;
  while (sent < total) {
    const want = Math.min(total - sent, chunk.length);
    const n = tcb.write(chunk, 0, want);
    if (n === 0) return;
    sent += n;
  }
}

/** Reads everything in order (the app's read loop on Readable). */
function drain(c: TcpConn): void {
  const tcb = c.tcb;
  for (;;) {
    const n = tcb.read(sink, 0, sink.length);
    if (n === 0) return;
    received += n;
  }
}

const listener = a.tcp.listen({ port: PORT, is4: true });
if (typeof listener === 'number') throw new Error(`listen: ${listener}`);
listener.onAcceptable = () => {
  const c = listener.accept();
  if (c === null) return;
  c.user = {
    onTcpEvent(conn, event) {
      if (event === TcpEvent.Readable) drain(conn);
    },
  };
  drain(c);
};

const conn = b.tcp.connect({
  is4: true,
  addr4: parseIpv4Address(A4),
  addr6: new Uint8Array(16),
  port: PORT,
});
if (typeof conn === 'number') throw new Error(`connect: ${conn}`);
conn.user = {
  onTcpEvent(c, event) {
    if (event === TcpEvent.Connected || event === TcpEvent.Writable) pump(c);
  },
};
const sender = conn;

const t0 = performance.now();
const cpu0 = threadCpuSeconds();
let lastTick = t0;
let passes = 0;
const deadline = t0 + 120_000;
while (received < total) {
  pass(b);
  pass(a);
  passes++;
  if ((passes & 63) === 0) {
    const now = performance.now();
    if (now - lastTick >= 100) {
      lastTick = now;
      a.iface.tick();
      b.iface.tick();
    }
    if (now > deadline) throw new Error(`stalled: ${received} of ${total} bytes received`);
  }
}
const seconds = (performance.now() - t0) / 1000;
// This thread's time on a CPU: on a shared machine, less noisy than the wall clock (time spent
// waiting for a core is left out; GC helper threads are too).
const cpuSeconds = threadCpuSeconds() - cpu0;

const st = b.tcp.stats;
const segments = st.outSegs;
const gbit = (total * 8) / seconds / 1e9;
const usPerSegment = (seconds * 1e6) / segments;
console.log(
  JSON.stringify({
    mib: total / MIB,
    seconds: +seconds.toFixed(3),
    gbitPerSecond: +gbit.toFixed(3),
    dataSegments: segments,
    usPerDataSegment: +usPerSegment.toFixed(3),
    cpuSeconds: +cpuSeconds.toFixed(3),
    gbitPerCpuSecond: +((total * 8) / cpuSeconds / 1e9).toFixed(3),
    cpuUsPerDataSegment: +((cpuSeconds * 1e6) / segments).toFixed(3),
    acks: a.tcp.stats.outSegs,
    retransSegs: st.retransSegs,
    mss: sender.tcb.smss(),
    passes,
  }),
);
sender.tcb.abort();
a.tcp.close();
b.tcp.close();
a.iface.close();
b.iface.close();
