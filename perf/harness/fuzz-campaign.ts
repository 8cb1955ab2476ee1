// A fuzz campaign on the test bed (issue 13): the engine runs the TCP and UDP echo app, a normal
// client in the peer namespace keeps exchanging data with it and checks every echo, and
// `xdpnet-peer fuzz` sends seeded malformed and mutated frames of every protocol the engine parses
// in several passes (each continuing the seed's stream of units). After it the campaign checks
// that the engine still serves, that its memory is flat (RSS after each pass within 10% of the
// first), that every frame is accounted for and that drops are counted by reason:
//  - frames: after every pass each UMEM frame is in exactly one place (the live census), and the
//    frame audit of engine.stop() passes;
//  - ledger: every frame the peer sent reached the engine's interface (its XDP program saw it or
//    the interface counted it dropped); every frame the XDP program should redirect (the fuzzer
//    applies its rule) was redirected or counted dropped at the socket's ring; and, once the
//    client has stopped, the frames the engine received equal those the program redirected;
//  - drops: every frame whose one defect makes its drop reason certain (the fuzzer's `expect`)
//    is counted under that reason, and drops appear under every layer's reasons. Frames the XDP
//    program passes to the kernel never reach the engine, so they are not the engine's to count.
// The CI test runs a short seeded campaign; `xdpnet perf fuzz` runs the long one.
import fs from 'node:fs/promises';
import path from 'node:path';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { Engine } from '../../ts/runtime/engine.js';
import type { StackWorkerStats } from '../../ts/runtime/stack-config.js';
import type { FrameAccount } from '../../ts/dev/frame-device.js';
import type { TestBed } from '../../ts/testbed/testbed.js';
import { runCommand } from '../../ts/testbed/command.js';
import { runPeerTool } from './peer-tool.js';
import {
  PY_STEADY_CLIENT,
  steadyClientProblems,
  type SteadyClientReport,
} from './steady-client.js';

const ECHO_PORT = 7;
/** perf/apps/echo-both.ts's MEMORY_PORT (not imported: that module is the engine's app). */
const MEMORY_PORT = 7777;
const SYN_RETRIES = 1;
/** How long a SYN-RECV lives with SYN_RETRIES (1 + 2 s of backoff), and some slack. */
const HALF_OPEN_MS = 5_000;
const echoApp = path.join(path.dirname(fileURLToPath(import.meta.url)), '../apps/echo-both.js');

/** The JSON line of `xdpnet-peer fuzz` (crates/xdpnet-peer/src/cmd/fuzz.rs). */
export interface FuzzReport {
  seed: number;
  firstUnit: number;
  units: number;
  sent: number;
  toEngine: number;
  mutated: number;
  refused: number;
  seconds: number;
  pps: number;
  classes: Record<string, number>;
  /** Frames redirected to the engine whose drop reason is certain, by reason. */
  expect: Record<string, number>;
  sessions: Record<string, number>;
  received: number;
  answered: Record<string, number>;
  answersSent: number;
  answersRefused: number;
  fromEngine: Record<string, number>;
  kernelDrops: number;
}

/** The XDP counters of the engine's end of the bed (veth's ethtool -S), summed over queues. */
export interface XdpCounters {
  /** Frames the XDP program ran on. */
  packets: number;
  /** Frames it redirected into the engine's socket. */
  redirect: number;
  /**
   * Frames veth dropped on receive: a redirect that failed because the socket's RX ring was full
   * (veth counts those here, not under xdp_drops), or a frame that found no room.
   */
  rxDrops: number;
  /** XDP_DROP verdicts (the engine's program returns none). */
  xdpDrops: number;
}

export interface FuzzPassReport {
  pass: number;
  fuzz: FuzzReport;
  /** This pass's figures: frames the engine received, the XDP counters, drops by reason. */
  rxFrames: number;
  xdp: XdpCounters;
  drops: Record<string, number>;
  dropsTotal: number;
  /**
   * This process's RSS after the pass (the engine's workers are its threads), read after the
   * worker collected its garbage (so a pass is not judged by when V8 last ran a full GC).
   */
  rssBytes: number;
  /**
   * The part of that RSS the process owns (RssAnon + RssShmem in /proc/self/status): what a leak
   * grows. The rest is file-backed, pages of the node binary and libraries faulted in the first
   * time a code path runs; a one-off step of those (17 MiB seen in CI) is not a leak.
   */
  ownedRssBytes: number;
  /** The worker's V8 heap after that collection. */
  workerHeap: WorkerMemory | undefined;
  frames: FrameAccount | undefined;
  /** The engine's sockets after the pass, by protocol and state (e.g. "tcp ESTAB"). */
  sockets: Record<string, number>;
}

/** What the app's memory port answers (perf/apps/echo-both.ts). */
export interface WorkerMemory {
  collected: boolean;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export interface FuzzCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface FuzzCampaignReport {
  passes: FuzzPassReport[];
  client: SteadyClientReport | undefined;
  fresh: Record<string, boolean>;
  total: { sent: number; toEngine: number; rxFrames: number; redirect: number; drops: number };
  checks: FuzzCheck[];
  ok: boolean;
  seconds: number;
}

export interface FuzzCampaignOptions {
  seed: number;
  /** Fuzz frames per pass. */
  count: number;
  /**
   * Fuzz frames of the first pass, whose end is the memory baseline (default `count`): long
   * enough for the engine to warm up (its code optimised, its frames and buffers touched).
   */
  firstCount?: number;
  passes: number;
  /** Fuzz frames per second; 0 sends as fast as the peer can. */
  rate: number;
  xdpMode?: 'auto' | 'native' | 'generic';
  bindMode?: 'auto' | 'zerocopy' | 'copy';
  /** Progress lines (perf prints them on stderr). */
  log?: (line: string) => void;
}

/** Families of drop reasons, one per layer the fuzzer attacks: each must count drops. */
const REASON_FAMILIES = [
  'eth_',
  'arp_',
  'ipv4_',
  'ipv6_',
  'icmpv4_',
  'icmpv6_',
  'nd_',
  'udp_',
  'tcp_',
  'frag_',
];

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

/** RssAnon + RssShmem of this process, in bytes (proc(5): the fields are in kB). */
async function ownedRss(): Promise<number> {
  const status = await fs.readFile('/proc/self/status', 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return (kb('RssAnon') + kb('RssShmem')) * 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function xdpCounters(ifname: string): Promise<XdpCounters> {
  const { code, stdout, stderr } = await runCommand(['ethtool', '-S', ifname]);
  if (code !== 0)
    throw Object.assign(new Error(`ethtool -S ${ifname}: ${stderr}`), { code: 'EIO' });
  const c: XdpCounters = { packets: 0, redirect: 0, rxDrops: 0, xdpDrops: 0 };
  for (const line of stdout.split('\n')) {
    const m = /^\s*rx_queue_\d+_(xdp_packets|xdp_redirect|xdp_drops|drops):\s*(\d+)/.exec(line);
    if (!m) continue;
    const key = { xdp_packets: 'packets', xdp_redirect: 'redirect', xdp_drops: 'xdpDrops' }[m[1]];
    c[(key ?? 'rxDrops') as keyof XdpCounters] += Number(m[2]);
  }
  return c;
}

function minus(a: XdpCounters, b: XdpCounters): XdpCounters {
  return {
    packets: a.packets - b.packets,
    redirect: a.redirect - b.redirect,
    rxDrops: a.rxDrops - b.rxDrops,
    xdpDrops: a.xdpDrops - b.xdpDrops,
  };
}

function dropDelta(after: StackWorkerStats[], before: StackWorkerStats[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [i, s] of after.entries()) {
    for (const [k, v] of Object.entries(s.drops)) {
      const d = v - (before[i]?.drops[k] ?? 0);
      if (d !== 0) out[k] = (out[k] ?? 0) + d;
    }
  }
  return out;
}

async function socketCounts(engine: Engine): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of await engine.sockets()) {
    const key = `${s.proto} ${s.state}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

function rxFrames(stats: StackWorkerStats[]): number {
  return stats.reduce((n, s) => n + (s.iface.rxFrames ?? 0), 0);
}

const PLACES = ['free', 'fill', 'rx', 'app', 'txQueued', 'tx', 'completion'] as const;

/** Problems with a live frame census: each frame in exactly one place, no wrong moves. */
export function censusProblems(a: FrameAccount | undefined, frames: number): string[] {
  if (a === undefined) return ['the worker reports no frame account'];
  const sum = PLACES.reduce((n, p) => n + a[p], 0);
  const problems: string[] = [];
  if (sum !== a.frames) problems.push(`places add up to ${sum} of ${a.frames} frames`);
  if (a.frames !== frames) problems.push(`${a.frames} frames, ${frames} at the start`);
  if (a.violations !== 0) problems.push(`${a.violations} frames moved from the wrong place`);
  return problems;
}

// Asks the app's memory port (perf/apps/echo-both.ts) for the worker's memory after a full GC.
const PY_MEMORY = String.raw`
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(2)
for _ in range(5):
    try:
        u.sendto(b"memory?", (sys.argv[1], int(sys.argv[2]))); print(u.recv(4096).decode()); break
    except OSError: pass
`;

async function workerMemory(bed: TestBed): Promise<WorkerMemory | undefined> {
  const r = await bed.exec(['python3', '-c', PY_MEMORY, bed.engineIpv4, String(MEMORY_PORT)], {
    timeoutMs: 20_000,
  });
  try {
    return JSON.parse(r.stdout.trim()) as WorkerMemory;
  } catch {
    return undefined;
  }
}

// One round trip of each kind after the campaign: TCP and UDP over IPv4 and IPv6.
const PY_FRESH = String.raw`
import json, socket, sys
v4, v6, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
out = {}
for name, host in (("tcp4", v4), ("tcp6", v6)):
    try:
        s = socket.create_connection((host, port), timeout=5); s.sendall(b"fresh " + name.encode())
        got = b""
        while len(got) < 10: got += s.recv(64)
        out[name] = got == b"fresh " + name.encode(); s.close()
    except OSError: out[name] = False
for name, fam, host in (("udp4", socket.AF_INET, v4), ("udp6", socket.AF_INET6, v6)):
    u = socket.socket(fam, socket.SOCK_DGRAM); u.settimeout(1); out[name] = False
    for _ in range(3):
        try:
            u.sendto(b"fresh " + name.encode(), (host, port))
            if u.recv(64) == b"fresh " + name.encode(): out[name] = True; break
        except OSError: pass
print(json.dumps(out))
`;

/** Starts the steady client and resolves once it has completed a round. */
function startClient(bed: TestBed, maxSeconds: number): Promise<ChildProcess> {
  const child = bed.spawn([
    'python3',
    '-u',
    '-c',
    PY_STEADY_CLIENT,
    bed.engineIpv4,
    bed.engineIpv6,
    String(ECHO_PORT),
    String(maxSeconds),
  ]);
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`steady client not ready: ${err}`)), 30_000);
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    child.stdout!.once('data', (b: Buffer) => {
      clearTimeout(timer);
      if (b.toString().startsWith('ready')) resolve(child);
      else reject(new Error(`steady client: ${b.toString()} ${err}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`steady client exited ${code}: ${err}`));
    });
  });
}

/** Closes the client's stdin and reads its report. */
function stopClient(child: ChildProcess): Promise<SteadyClientReport> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`steady client did not report: ${err}`));
    }, 30_000);
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    child.once('exit', () => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as SteadyClientReport);
      } catch {
        reject(new Error(`steady client: ${out} ${err}`));
      }
    });
    child.stdin!.end();
  });
}

/** Waits (up to HALF_OPEN_MS) until no connection of the engine is in SYN-RECV. */
async function halfOpenGone(engine: Engine): Promise<void> {
  const deadline = performance.now() + HALF_OPEN_MS;
  while (performance.now() < deadline) {
    if (!(await engine.sockets()).some((s) => s.state === 'SYN-RECV')) return;
    await sleep(200);
  }
}

/** Waits until the engine has read everything the XDP program redirected (its RX ring is empty). */
async function settle(engine: Engine, ifname: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  await sleep(200);
  while (performance.now() < deadline) {
    const stats = await engine.stats();
    const xdp = await xdpCounters(ifname);
    const waiting = stats.reduce((n, s) => n + (s.frames?.rx ?? 0), 0);
    if (waiting === 0 && xdp.redirect - rxFrames(stats) < 64) return;
    await sleep(50);
  }
}

/** Runs the campaign on `bed` (which must be fresh) and reports every figure and check. */
export async function runFuzzCampaign(
  bed: TestBed,
  o: FuzzCampaignOptions,
): Promise<FuzzCampaignReport> {
  const log = o.log ?? (() => undefined);
  const started = performance.now();
  const xdp0 = await xdpCounters(bed.engineIf);
  // The workers' isolates, made after this, get gc(): the app collects before it reports memory.
  v8.setFlagsFromString('--expose-gc');
  const engine = await Engine.start({
    ifname: bed.engineIf,
    ipv4: [`${bed.engineIpv4}/${bed.ipv4Prefix}`],
    ipv6: [`${bed.engineIpv6}/${bed.ipv6Prefix}`],
    app: echoApp,
    workers: 1,
    control: false,
    // SYN-ACKs to the unreachable sources mutations make are retried once (3 s) instead of six
    // times (127 s): half-open state turns over quickly, and the memory check (made once it has)
    // sees growth, not a SYN queue still filling up.
    tcp: { synRetries: SYN_RETRIES },
    xdpMode: o.xdpMode,
    bindMode: o.bindMode,
  });
  const checks: FuzzCheck[] = [];
  const check = (name: string, problems: string[], detail: string) =>
    checks.push({ name, ok: problems.length === 0, detail: problems.join('; ') || detail });
  const passes: FuzzPassReport[] = [];
  let client: ChildProcess | undefined;
  let clientReport: SteadyClientReport | undefined;
  let fresh: Record<string, boolean> = {};
  const total = { sent: 0, toEngine: 0, rxFrames: 0, redirect: 0, drops: 0 };
  try {
    const startStats = await engine.stats();
    const frameCount = startStats[0].frames?.frames ?? 0;
    const firstCount = o.firstCount ?? o.count;
    const biggest = Math.max(firstCount, o.count);
    const perPassSeconds = o.rate > 0 ? biggest / o.rate : biggest / 20_000;
    client = await startClient(bed, o.passes * (perPassSeconds + 30) + 60);
    log(
      `steady client running; ${o.passes} passes of ${o.count} frames` +
        (firstCount !== o.count ? ` (the first ${firstCount})` : '') +
        `, seed ${o.seed}`,
    );
    let firstUnit = 0;
    const censusIssues: string[] = [];
    for (let pass = 1; pass <= o.passes; pass++) {
      const before = await engine.stats();
      const xdpBefore = await xdpCounters(bed.engineIf);
      const args = ['fuzz', '--dst-mac', bed.engineMac, '--dst4', bed.engineIpv4];
      args.push('--dst6', bed.engineIpv6, '--iface', bed.peerIf, '--seed', String(o.seed));
      const count = pass === 1 ? firstCount : o.count;
      args.push('--first', String(firstUnit), '--count', String(count));
      args.push('--rate', String(o.rate), '--seconds', String(perPassSeconds * 3 + 60));
      const fuzz = await runPeerTool<FuzzReport>(bed, args, (perPassSeconds * 3 + 90) * 1000);
      firstUnit += fuzz.units;
      await settle(engine, bed.engineIf);
      const after = await engine.stats();
      const xdp = minus(await xdpCounters(bed.engineIf), xdpBefore);
      const drops = dropDelta(after, before);
      const sockets = await socketCounts(engine);
      // Memory is read once the pass's half-open connections have timed out: transient state of
      // the load, not growth (the client's connections stay).
      await halfOpenGone(engine);
      const workerHeap = await workerMemory(bed);
      const report: FuzzPassReport = {
        pass,
        fuzz,
        rxFrames: rxFrames(after) - rxFrames(before),
        xdp,
        drops,
        dropsTotal: Object.values(drops).reduce((a, b) => a + b, 0),
        rssBytes: process.memoryUsage().rss,
        ownedRssBytes: await ownedRss(),
        workerHeap,
        frames: after[0].frames,
        sockets,
      };
      passes.push(report);
      total.sent += fuzz.sent;
      total.toEngine += fuzz.toEngine;
      total.drops += report.dropsTotal;
      censusIssues.push(
        ...censusProblems(after[0].frames, frameCount).map((p) => `pass ${pass}: ${p}`),
      );
      log(
        `pass ${pass}: ${fuzz.sent} frames (${fuzz.toEngine} to the engine) in ${fuzz.seconds} s, ` +
          `engine received ${report.rxFrames}, dropped ${report.dropsTotal} by reason, ` +
          `${xdp.rxDrops} lost at a full socket ring, RSS ${mib(report.rssBytes)} MiB ` +
          `(${mib(report.ownedRssBytes)} MiB anonymous, ` +
          `worker heap ${workerHeap ? mib(workerHeap.heapUsed) : '?'} MiB), ` +
          `sockets ${JSON.stringify(report.sockets)}`,
      );
    }
    clientReport = await stopClient(client);
    client = undefined;
    // Quiet now: everything the XDP program redirected since the engine started was received.
    await settle(engine, bed.engineIf);
    const endStats = await engine.stats();
    const xdpAll = minus(await xdpCounters(bed.engineIf), xdp0);
    total.rxFrames = rxFrames(endStats);
    total.redirect = xdpAll.redirect;
    censusIssues.push(...censusProblems(endStats[0].frames, frameCount).map((p) => `end: ${p}`));
    const freshOut = await bed.exec(
      ['python3', '-c', PY_FRESH, bed.engineIpv4, bed.engineIpv6, String(ECHO_PORT)],
      { timeoutMs: 30_000 },
    );
    try {
      fresh = JSON.parse(freshOut.stdout.trim()) as Record<string, boolean>;
    } catch {
      fresh = {};
    }

    // Every connection goes: the client's closed, the fuzzer reset its own, half-open ones time
    // out. What is left is the app's listener and UDP sockets.
    let leftover: Record<string, number> = {};
    const socketsDeadline = performance.now() + HALF_OPEN_MS + 5_000;
    for (;;) {
      leftover = await socketCounts(engine);
      for (const k of ['tcp LISTEN', 'udp UNCONN']) delete leftover[k];
      if (Object.keys(leftover).length === 0 || performance.now() > socketsDeadline) break;
      await sleep(250);
    }

    const kinds = ['tcp4', 'tcp6', 'udp4', 'udp6'];
    check(
      'serves',
      kinds.filter((k) => fresh[k] !== true).map((k) => `a fresh ${k} exchange failed`),
      'fresh TCP and UDP exchanges over IPv4 and IPv6 after the campaign',
    );
    check(
      'client',
      steadyClientProblems(clientReport),
      `${clientReport.tcpMessages} TCP messages (${clientReport.tcpBytes} bytes), ` +
        `${clientReport.freshConnections} fresh connections, ${clientReport.udpEchoed} UDP ` +
        'echoes, all checked',
    );
    check(
      'sockets',
      Object.entries(leftover).map(([k, n]) => `${n} ${k} left`),
      'no connection left once the client closed and half-open ones timed out',
    );
    const first = passes[0];
    const heap = (p: FuzzPassReport) => p.workerHeap?.heapUsed ?? NaN;
    // The worker's JS heap is judged by what it uses after a full GC. What V8 reserves for it
    // (heapTotal) grows by V8's own policy: on Node 26 it grew 15 MiB between the first two
    // passes while the heap used stayed flat. So the anonymous RSS is judged without it.
    const outsideHeap = (p: FuzzPassReport) => p.ownedRssBytes - (p.workerHeap?.heapTotal ?? 0);
    const memoryProblems: string[] = [];
    for (const p of passes.slice(1)) {
      if (outsideHeap(p) > outsideHeap(first) * 1.1) {
        memoryProblems.push(
          `anonymous RSS outside the worker's JS heap after pass ${p.pass} is ` +
            `${(outsideHeap(p) / outsideHeap(first)).toFixed(3)}x the first`,
        );
      }
      if (!(heap(p) <= heap(first) * 1.1)) {
        memoryProblems.push(
          `the worker's heap after pass ${p.pass} is ${(heap(p) / heap(first)).toFixed(3)}x the first`,
        );
      }
    }
    check(
      'memory',
      memoryProblems,
      "anonymous RSS outside the worker's JS heap, and the heap it uses after a full GC, " +
        'after each pass within 10% of the first: ' +
        passes.map((p) => `${mib(outsideHeap(p))} (${mib(heap(p))})`).join(', ') +
        ' MiB',
    );
    const ledger: string[] = [];
    for (const p of passes) {
      if (p.xdp.packets < p.fuzz.sent + p.fuzz.answersSent) {
        ledger.push(
          `pass ${p.pass}: the XDP program saw ${p.xdp.packets} frames, the peer sent ` +
            `${p.fuzz.sent} + ${p.fuzz.answersSent} answers`,
        );
      }
      if (p.xdp.redirect + p.xdp.rxDrops < p.fuzz.toEngine) {
        ledger.push(
          `pass ${p.pass}: ${p.xdp.redirect} redirected + ${p.xdp.rxDrops} lost at the ring < ` +
            `${p.fuzz.toEngine} frames the program must redirect`,
        );
      }
    }
    if (total.rxFrames !== total.redirect) {
      ledger.push(
        `the engine received ${total.rxFrames}, the XDP program redirected ${total.redirect}`,
      );
    }
    check(
      'ledger',
      ledger,
      `every frame sent reached the XDP program; the ${total.toEngine} for the engine were ` +
        `redirected (or counted lost at a full ring); received ${total.rxFrames} = redirected ` +
        `${total.redirect}`,
    );
    const byReason: string[] = [];
    for (const p of passes) {
      for (const [reason, n] of Object.entries(p.fuzz.expect)) {
        const got = p.drops[reason] ?? 0;
        if (got < n - p.xdp.rxDrops) {
          byReason.push(`pass ${p.pass}: ${reason} counted ${got}, ${n} such frames sent`);
        }
      }
      for (const family of REASON_FAMILIES) {
        if (!Object.keys(p.drops).some((k) => k.startsWith(family))) {
          byReason.push(`pass ${p.pass}: no drop counted under ${family}*`);
        }
      }
    }
    check(
      'drops',
      byReason,
      `${total.drops} drops by reason; every frame with a certain reason counted under it ` +
        `(${Object.keys(passes[0].fuzz.expect).length} reasons), every layer counting`,
    );
    const audit = await engine.stop();
    check(
      'frames',
      [...censusIssues, ...audit.problems, ...(audit.audited ? [] : ['the stop was not audited'])],
      'every frame in one place after every pass; the stop audit passed',
    );
  } finally {
    if (client) client.kill('SIGKILL');
    await engine.stop();
  }
  return {
    passes,
    client: clientReport,
    fresh,
    total,
    checks,
    ok: checks.length > 0 && checks.every((c) => c.ok),
    seconds: (performance.now() - started) / 1000,
  };
}
