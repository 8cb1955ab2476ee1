// Ring throughput. Part 1: descriptors per second between two worker threads (a real producer
// and a real consumer, each writing/reading every entry) at batch 1, 8, 64 and 256. Part 2:
// benchmark.js figures for the single-thread costs (one reserve/write/submit + peek/read/release
// round trip). Run: node dist/perf/bench/rings.bench.js [--seconds-per-case 1]

import Benchmark from 'benchmark';
import { loadavg } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import {
  DESC_ENTRY_SIZE,
  DescConsumer,
  DescProducer,
  initRing,
  ringByteLength,
} from '../../rings/index.js';

interface Job {
  role: 'producer' | 'consumer';
  sab: SharedArrayBuffer;
  start: SharedArrayBuffer;
  total: number;
  batch: number;
}

interface Done {
  role: string;
  ns: number;
  checksum: number;
}

const RING_CAPACITY = 4096;

function producer(job: Job): number {
  const ring = new DescProducer(job.sab, 0);
  const b = job.batch;
  let sent = 0;
  while (sent < job.total) {
    const got = ring.reserve(b);
    if (got === 0) continue;
    for (let i = 0; i < got; i++) ring.write(i, sent + i, 64);
    ring.submit(got);
    sent += got;
  }
  return sent;
}

function consumer(job: Job): number {
  const ring = new DescConsumer(job.sab, 0);
  const b = job.batch;
  let seen = 0;
  let sum = 0;
  while (seen < job.total) {
    const got = ring.peek(b);
    if (got === 0) continue;
    for (let i = 0; i < got; i++) sum = (sum + ring.addr(i) + ring.len(i)) | 0;
    ring.release(got);
    seen += got;
  }
  return sum;
}

function runInWorker(): void {
  const job = workerData as Job;
  const start = new Int32Array(job.start);
  Atomics.add(start, 1, 1); // ready
  while (Atomics.load(start, 0) === 0) Atomics.wait(start, 0, 0, 10);
  const t0 = process.hrtime.bigint();
  const checksum = job.role === 'producer' ? producer(job) : consumer(job);
  const ns = Number(process.hrtime.bigint() - t0);
  const done: Done = { role: job.role, ns, checksum };
  parentPort?.postMessage(done);
}

async function twoThreadRun(batch: number, total: number): Promise<number> {
  const sab = new SharedArrayBuffer(ringByteLength(RING_CAPACITY, DESC_ENTRY_SIZE));
  initRing(sab, 0, RING_CAPACITY, DESC_ENTRY_SIZE);
  const start = new SharedArrayBuffer(8);
  const flag = new Int32Array(start);
  const spawn = (role: Job['role']) => {
    const w = new Worker(new URL(import.meta.url), {
      workerData: { role, sab, start, total, batch },
    });
    return new Promise<Done>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  };
  const results = [spawn('producer'), spawn('consumer')];
  while (Atomics.load(flag, 1) < 2) await new Promise((r) => setTimeout(r, 1));
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  const done = await Promise.all(results);
  // The slower side bounds the rate; both started together.
  const ns = Math.max(...done.map((d) => d.ns));
  return total / (ns / 1e9);
}

function singleThreadSuite(): Promise<void> {
  const sab = new SharedArrayBuffer(ringByteLength(RING_CAPACITY, DESC_ENTRY_SIZE));
  initRing(sab, 0, RING_CAPACITY, DESC_ENTRY_SIZE);
  const p = new DescProducer(sab, 0);
  const c = new DescConsumer(sab, 0);
  let sink = 0;
  const roundTrip = (b: number) => () => {
    const got = p.reserve(b);
    for (let i = 0; i < got; i++) p.write(i, i, 64);
    p.submit(got);
    const n = c.peek(b);
    for (let i = 0; i < n; i++) sink = (sink + c.addr(i)) | 0;
    c.release(n);
  };
  return new Promise((resolve) => {
    const suite = new Benchmark.Suite('rings, one thread');
    for (const b of [1, 64])
      suite.add(`reserve/write/submit + peek/read/release, batch ${b}`, roundTrip(b));
    suite
      .on('cycle', (e: Benchmark.Event) => {
        const t = e.target as Benchmark.Target & { name: string };
        const batch = Number(/batch (\d+)/.exec(t.name)?.[1] ?? 1);
        const hz = t.hz ?? 0;
        console.log(
          `  ${t.name}: ${(hz / 1e6).toFixed(2)} M round trips/s = ${((hz * batch) / 1e6).toFixed(1)} M desc/s (±${t.stats?.rme.toFixed(1)}%)`,
        );
      })
      .on('complete', () => {
        if (sink === 42) console.log('');
        resolve();
      })
      .run({ async: false });
  });
}

async function main(): Promise<void> {
  const load = loadavg()[0].toFixed(2);
  console.log(`SPSC descriptor ring, capacity ${RING_CAPACITY}, two worker threads, 5 runs each`);
  console.log(
    `(1-min load average before: ${load}; other load on a 2-core box lowers the figures)`,
  );
  console.log('| batch | best descriptors/s | median descriptors/s |');
  console.log('|------:|-------------------:|---------------------:|');
  for (const batch of [1, 8, 64, 256]) {
    const total = batch === 1 ? 10_000_000 : batch === 8 ? 50_000_000 : 200_000_000;
    const rates: number[] = [];
    for (let run = 0; run < 5; run++) rates.push(await twoThreadRun(batch, total));
    rates.sort((a, b) => a - b);
    const m = (r: number) => `${(r / 1e6).toFixed(1)} M/s`;
    console.log(`| ${batch} | ${m(rates[4])} | ${m(rates[2])} |`);
  }
  console.log('\nbenchmark.js, one thread (producer and consumer interleaved):');
  await singleThreadSuite();
}

if (isMainThread) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
} else {
  runInWorker();
}
