// The IPv4 output path per datagram, with and without a cached path (ts/iface/ip-path.ts): the
// same 1448-byte TCP-sized datagram to one static neighbour through beginIp4 (route, source,
// path-MTU and neighbour lookups each time) and beginIpOnPath (three generation compares),
// alternating rounds in one process so both see the same machine load. No checksum, no copy of
// the payload: only what the cache removes and what it adds.
//
// Run: npx tsc -p tsconfig.json && node dist/perf/bench/ip-path.bench.js

import { MemoryPair } from '../../ts/dev/memory/memory-pair.js';
import type { MemoryPort } from '../../ts/dev/memory/memory-port.js';
import { Interface } from '../../ts/iface/interface.js';
import { IpPath } from '../../ts/iface/ip-path.js';
import { SharedNeighbourTable } from '../../ts/iface/neighbour-table.js';
import { parseIpv4Address } from '../../ts/wire/address.js';

const A4 = parseIpv4Address('198.18.15.1');
const B4 = parseIpv4Address('198.18.15.2');
const LEN = 20 + 1448;
const BURST = 32;
const ROUNDS = 200;
const PER_ROUND = 20_000;

const pair = MemoryPair.open({ framesPerPort: 1024, ringSize: 512 });
const iface = new Interface(
  pair.a,
  {
    mac: '02:00:00:00:00:1a',
    ipv4: ['198.18.15.1/24'],
    dad: false,
    gratuitousArp: 0,
    staticNeighbours: [{ ip: '198.18.15.2', mac: '02:00:00:00:00:1b' }],
  },
  { neighbours: SharedNeighbourTable.create(64) },
);
const path = new IpPath();
path.bind4(A4, B4);

function drain(peer: MemoryPort): void {
  const n = peer.receive();
  for (let i = 0; i < n; i++) peer.release(peer.rxDesc[2 * i]);
  peer.flush();
  peer.refill();
}

function round(cached: boolean): number {
  const t0 = performance.now();
  for (let i = 0; i < PER_ROUND; i++) {
    const at = cached ? iface.beginIpOnPath(path, LEN) : iface.beginIp4(B4, LEN, A4);
    if (at < 0) throw new Error(`begin: ${at}`);
    if (iface.finishIp(6, LEN, true) !== 0) throw new Error('finish');
    if (i % BURST === BURST - 1) {
      iface.flush();
      drain(pair.b);
      pair.a.reap();
    }
  }
  return ((performance.now() - t0) * 1e6) / PER_ROUND;
}

const full: number[] = [];
const onPath: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  full.push(round(false));
  onPath.push(round(true));
}
const median = (xs: number[]): number => xs.sort((a, b) => a - b)[xs.length >> 1];
console.log(
  JSON.stringify({
    nsPerDatagramFullLookups: +median(full).toFixed(1),
    nsPerDatagramCachedPath: +median(onPath).toFixed(1),
    pathRefills: iface.stats.pathRefills,
  }),
);
iface.close();
