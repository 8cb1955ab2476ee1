// The pure-stack TCP perf modes (mem-tcp-stream, mem-tcp-rr): two engines, Interface + TcpStack
// each, on the two ports of a MemoryPair, in this one thread, on the real clock. No kernel, no
// worker, no net.Socket: the apps use the TCB (tcb.write / tcb.read) and a TcpConnUser hook, and
// each pass does what a stack worker's loop does (ts/runtime/stack-worker.ts, stack-loop.ts):
// due timers, a receive batch between beginBatch/endBatch, the app's work, then the owed ACKs
// and one flush.
// Checksums are computed on every frame sent and verified on every frame received (the stack has
// no switch to skip either), and the pair drops anything longer than its MTU.
// Also runs the smoltcp baseline (crates/tcp-baseline) with the same MTU and socket buffers.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { MemoryPair } from '../../ts/dev/memory/memory-pair.js';
import { Interface } from '../../ts/iface/interface.js';
import { SharedNeighbourTable } from '../../ts/iface/neighbour-table.js';
import { TcpStack } from '../../ts/socket/tcp/tcp-stack.js';
import { DEFAULT_TCP_CONFIG, type TcpConfig } from '../../ts/socket/tcp/config.js';
import { TcpEvent } from '../../ts/socket/tcp/host.js';
import type { TcpConn, TcpConnUser } from '../../ts/socket/tcp/tcp-conn.js';
import { parseIpv4Address } from '../../ts/wire/address.js';
import { artifactPath, missingArtifactMessage } from '../../ts/dev/xdp/artifacts.js';

export const MEM_MTU = 1500;
const A_MAC = '02:00:00:00:00:1a';
const B_MAC = '02:00:00:00:00:1b';
const A4 = '198.18.15.1';
const B4 = '198.18.15.2';
const PORT = 9000;
/** How often each interface's timers run: a stack worker's TICK_MS. */
const TICK_MS = 10;
/** Longest run of passes before the event loop gets a turn (progress output, timers). */
const SLICE_MS = 20;
/** A connection that moves nothing for this long has wedged. */
export const STALL_MS = 10_000;

/**
 * Turns each stack takes at the workload. The host's speed drifts over seconds on a shared
 * machine (a fixed integer loop took 1.5 s in one run and 3.0 s in the next, seconds apart), so
 * ours-then-smoltcp in one go could hand one side a slow spell; in turns, in ABBA order (ours,
 * smoltcp, smoltcp, ours, ...), both get the same share of slow and fast spells, and a drift
 * that is steady over the run cancels.
 */
export const MEM_TURNS = 4;

/** Whether our stack goes first in turn `i` (ABBA: ours first in turns 0, 2, 4, ...). */
export function oursFirst(turn: number): boolean {
  return turn % 2 === 0;
}

/** Runs `ours(i)` and `baseline(i)` for every turn i < `turns`, the first of each pair by oursFirst. */
export async function inTurns(
  turns: number,
  ours: (turn: number) => Promise<void>,
  baseline: (turn: number) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < turns; i++) {
    const [first, second] = oursFirst(i) ? [ours, baseline] : [baseline, ours];
    await first(i);
    await second(i);
  }
}

/** Adds `turn`'s `keys` (counts and seconds, which add up over turns) into `sum`. */
export function addTurn<K extends string>(
  sum: Record<K, number>,
  turn: Record<K, number>,
  keys: readonly K[],
): void {
  for (const k of keys) sum[k] += turn[k];
}

/** `total` bytes split into at most MEM_TURNS whole shares, the remainder in the last. */
export function byteShares(total: number): number[] {
  const turns = Math.max(1, Math.min(MEM_TURNS, Math.floor(total)));
  const share = Math.floor(total / turns);
  const shares = new Array<number>(turns).fill(share);
  shares[turns - 1] = total - share * (turns - 1);
  return shares;
}

/**
 * The socket buffers of both engines and of the baseline: the engine's defaults, with receive
 * auto-tuning capped at the default receive buffer, since smoltcp's buffers are fixed in size and
 * a window grown past it would not be the same workload.
 */
export const memTcpConfig: Partial<TcpConfig> = {
  sendBufferBytes: DEFAULT_TCP_CONFIG.sendBufferBytes,
  receiveBufferBytes: DEFAULT_TCP_CONFIG.receiveBufferBytes,
  receiveBufferMaxBytes: DEFAULT_TCP_CONFIG.receiveBufferBytes,
};

/** The events a connection's hook saw since the app last looked, one bit per TcpEvent. */
export class EventBits implements TcpConnUser {
  bits = 0;

  onTcpEvent(_conn: TcpConn, event: TcpEvent): void {
    this.bits |= 1 << event;
  }

  /** Returns whether `event` was seen, and forgets it. */
  take(event: TcpEvent): boolean {
    const bit = 1 << event;
    const seen = (this.bits & bit) !== 0;
    this.bits &= ~bit;
    return seen;
  }

  /** ECONNRESET-style error when the connection failed or closed under the workload. */
  check(conn: TcpConn, who: string): void {
    if ((this.bits & ((1 << TcpEvent.Error) | (1 << TcpEvent.Closed))) !== 0) {
      const code = conn.error ?? conn.tcb.error ?? 'ECONNRESET';
      throw Object.assign(new Error(`the ${who}'s connection failed: ${code}`), { code });
    }
  }
}

export interface MemTcpSide {
  iface: Interface;
  tcp: TcpStack;
  /** What the app does after each receive batch (reads, writes); set by the mode. */
  app: () => void;
  lastTick: number;
}

export interface MemConnection {
  conn: TcpConn;
  events: EventBits;
}

export class MemTcpPair {
  readonly a: MemTcpSide;
  readonly b: MemTcpSide;

  constructor() {
    const pair = MemoryPair.open({ faults: { mtu: MEM_MTU } });
    const side = (port: typeof pair.a, mac: string, ip: string): MemTcpSide => {
      const iface = new Interface(
        port,
        { mac, ipv4: [`${ip}/24`], mtu: MEM_MTU, dad: false, gratuitousArp: 0 },
        { neighbours: SharedNeighbourTable.create(64) },
      );
      const tcp = new TcpStack(iface, { config: memTcpConfig });
      return { iface, tcp, app: () => undefined, lastTick: -Infinity };
    };
    this.a = side(pair.a, A_MAC, A4);
    this.b = side(pair.b, B_MAC, B4);
  }

  /** One pass of each stack, as its worker loop makes it. Returns the frames received. */
  pass(): number {
    return this.passOf(this.a) + this.passOf(this.b);
  }

  private passOf(s: MemTcpSide): number {
    const now = s.tcp.clock.now();
    if (now - s.lastTick >= TICK_MS) {
      s.lastTick = now;
      s.iface.tick(now);
    }
    s.tcp.runTimers(now, s.iface.device.batch);
    s.tcp.beginBatch(now);
    let n: number;
    try {
      n = s.iface.poll(now);
    } finally {
      s.tcp.endBatch();
    }
    s.app();
    s.tcp.settle();
    s.iface.flush();
    return n;
  }

  /** Frames both interfaces received so far (the progress line's packets). */
  get frames(): number {
    return this.a.iface.stats.rxFrames + this.b.iface.stats.rxFrames;
  }

  /**
   * Passes until `done()`, giving the event loop a turn every SLICE_MS; ETIMEDOUT when
   * `progress()` stays the same for STALL_MS.
   */
  async run(done: () => boolean, progress: () => number, what: string): Promise<void> {
    let last = progress();
    let lastAt = performance.now();
    while (!done()) {
      const end = performance.now() + SLICE_MS;
      while (!done() && performance.now() < end) this.pass();
      const now = performance.now();
      const p = progress();
      if (p !== last) {
        last = p;
        lastAt = now;
      } else if (now - lastAt > STALL_MS) {
        throw Object.assign(new Error(`${what} stalled for ${STALL_MS} ms`), {
          code: 'ETIMEDOUT',
        });
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** A (client) connects to B (server); resolves when both ends are ESTABLISHED. */
  async connect(): Promise<{ client: MemConnection; server: MemConnection }> {
    const listener = this.b.tcp.listen({ port: PORT, is4: true, addr4: parseIpv4Address(B4) });
    if (typeof listener === 'number') {
      throw Object.assign(new Error(`listen failed (errno ${listener})`), { code: 'EADDRINUSE' });
    }
    const c = this.a.tcp.connect({
      is4: true,
      addr4: parseIpv4Address(B4),
      addr6: new Uint8Array(16),
      port: PORT,
    });
    if (typeof c === 'number') {
      throw Object.assign(new Error(`connect failed (errno ${c})`), { code: 'ECONNREFUSED' });
    }
    const client = { conn: c, events: new EventBits() };
    c.user = client.events;
    let accepted: TcpConn | null = null;
    await this.run(
      () => {
        accepted ??= listener.accept();
        return accepted !== null && c.established;
      },
      () => 0,
      'the handshake',
    );
    const s = accepted as TcpConn | null;
    if (s === null) throw Object.assign(new Error('nothing accepted'), { code: 'ECONNREFUSED' });
    const server = { conn: s, events: new EventBits() };
    s.user = server.events;
    this.b.tcp.closeListener(listener);
    return { client, server };
  }

  /** The app's write, as net.Socket makes it: into the TCB; the pass flushes. */
  write(conn: TcpConn, buf: Uint8Array, off: number, len: number): number {
    return conn.tcb.write(buf, off, len);
  }

  /** The app's read (it may queue a window update; the pass flushes). */
  read(conn: TcpConn, buf: Uint8Array, off: number, len: number): number {
    return conn.tcb.read(buf, off, len);
  }

  /** Resets every connection and gives every frame back. */
  close(): void {
    // The apps are done: the resets below are not failures of their workload.
    this.a.app = this.b.app = () => undefined;
    this.a.tcp.close();
    this.b.tcp.close();
    for (let i = 0; i < 4; i++) this.pass();
    this.a.iface.close();
    this.b.iface.close();
  }
}

// ---- the stream's content, checked at the receiver -------------------------------------------

/** A prime period, so a segment delivered at the wrong offset does not match by accident. */
export const PATTERN_PERIOD = 65_521;
/** Largest slice written or checked at once. */
export const PATTERN_CHUNK = 65_536;

/** Byte i of a stream is pattern[i % PATTERN_PERIOD]; the buffer is one chunk longer. */
export function streamPattern(): Buffer {
  const p = Buffer.allocUnsafe(PATTERN_PERIOD + PATTERN_CHUNK);
  for (let i = 0; i < p.length; i++) p[i] = Math.imul(i % PATTERN_PERIOD, 0x9e3779b1) >>> 24;
  return p;
}

// ---- the smoltcp baseline ---------------------------------------------------------------------

/** The build tree's (target/release) in a clone, the platform package's when installed. */
export const smoltcpBenchPath = artifactPath('xdpnet-smoltcp-bench');

/** Runs `xdpnet-smoltcp-bench <args>` with our MTU and socket buffers; returns its JSON. */
/** Seconds between the bench's progress lines (the harness samples the latest at its own pace). */
const BENCH_PROGRESS_SECONDS = 0.1;

/**
 * Runs xdpnet-smoltcp-bench with `args` and parses its JSON line; `onProgress` gets the packets
 * of each progress line it prints while it runs.
 */
export function runSmoltcpBench<T>(
  args: string[],
  timeoutMs: number,
  onProgress?: (packets: number) => void,
): Promise<T> {
  if (!fs.existsSync(smoltcpBenchPath)) {
    return Promise.reject(
      Object.assign(new Error(missingArtifactMessage('xdpnet-smoltcp-bench')), { code: 'ENOENT' }),
    );
  }
  const all = [
    ...args,
    '--mtu',
    String(MEM_MTU),
    '--rx-buffer',
    String(memTcpConfig.receiveBufferBytes),
    '--tx-buffer',
    String(memTcpConfig.sendBufferBytes),
    ...(onProgress ? ['--interval', String(BENCH_PROGRESS_SECONDS)] : []),
  ];
  return new Promise((resolve, reject) => {
    const child = execFile(
      smoltcpBenchPath,
      all,
      { timeout: Math.ceil(timeoutMs) },
      (err, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        const parsed = line.startsWith('{') ? (JSON.parse(line) as T & { error?: string }) : null;
        if (err || parsed === null || parsed.error !== undefined) {
          const why = parsed?.error ?? (stderr.trim() || err?.message || 'no JSON line');
          reject(
            Object.assign(new Error(`xdpnet-smoltcp-bench ${args[0]} failed: ${why}`), {
              code: 'EBASELINE',
            }),
          );
          return;
        }
        resolve(parsed);
      },
    );
    if (onProgress) {
      child.stderr?.on('data', (d: Buffer) => {
        const last = [...d.toString().matchAll(/^progress (\d+)$/gm)].pop();
        if (last) onProgress(Number(last[1]));
      });
    }
  });
}
