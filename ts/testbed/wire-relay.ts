// The relay of a wire bed: `xdpnet-peer wire` running in the bed's wire namespace, moving every
// frame between the engine's veth and the peer's veth and impairing them as asked (netem.ts,
// wireArgs). Without it a wire bed has no connectivity, so it runs for the bed's whole life and
// is restarted (not reconfigured) to change impairments; its counters start again from zero.
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { artifactPath, missingArtifactMessage } from '../dev/xdp/artifacts.js';
import { makeError } from './command.js';

/**
 * xdpnet-peer (crates/xdpnet-peer): built by `npm run build:peer` in a clone, from the platform
 * package when installed.
 */
export const relayToolPath = artifactPath('xdpnet-peer');

const START_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 3_000;
const STATS_TIMEOUT_MS = 3_000;

/** One direction's counters since the relay (re)started. */
export interface WireDirectionStats {
  received: number;
  forwarded: number;
  /** Lost on purpose (lossPct). */
  dropped: number;
  duplicated: number;
  /** Sent at once, overtaking delayed frames (reorderPct). */
  reordered: number;
  /** Dropped because the queue held `limit` frames. */
  overflow: number;
  /** Longer than the MTU: AF_PACKET cannot relay them. */
  oversize: number;
  /** Refused by the outgoing interface. */
  txErrors: number;
  /** Dropped by the kernel before the relay read them (its socket buffer was full). */
  kernelDrops: number;
  /** Waiting in the queue right now. */
  queued: number;
}

export interface WireStats {
  /** Engine -> peer. */
  toPeer: WireDirectionStats;
  /** Peer -> engine. */
  toEngine: WireDirectionStats;
  /** Since the relay (re)started. */
  seconds: number;
  /** CPU time the relay has used. */
  cpuSeconds: number;
}

interface RelayLine {
  seconds: number;
  cpuSeconds: number;
  aToB: WireDirectionStats;
  bToA: WireDirectionStats;
}

function toStats(line: string): WireStats {
  const r = JSON.parse(line) as RelayLine & { error?: string; code?: string };
  if (r.error) throw makeError(r.code ?? 'EIO', `wire relay failed: ${r.error}`);
  return { toPeer: r.aToB, toEngine: r.bToA, seconds: r.seconds, cpuSeconds: r.cpuSeconds };
}

export class WireRelay {
  private stdout = '';
  private stderr = '';
  private readonly lineWaiters: ((line: string | undefined) => void)[] = [];
  private exited = false;
  private statsTurn: Promise<unknown> = Promise.resolve();
  private readonly exitPromise: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    this.exitPromise = new Promise((resolve) => child.on('close', () => resolve()));
    child.stdout?.setEncoding('utf8').on('data', (s: string) => this.onStdout(s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (this.stderr += s));
    child.on('close', () => {
      this.exited = true;
      for (const waiter of this.lineWaiters.splice(0)) waiter(undefined);
    });
  }

  /**
   * Starts the relay between `engineSideIf` (a) and `peerSideIf` (b) in `netns` with the relay
   * options `args`; resolves once it relays (it says `wire: ready`).
   */
  static async start(
    netns: string,
    engineSideIf: string,
    peerSideIf: string,
    args: string[],
  ): Promise<WireRelay> {
    if (!fs.existsSync(relayToolPath)) {
      throw makeError(
        'ENOENT',
        `a wire bed needs its relay, and ${missingArtifactMessage('xdpnet-peer')}`,
      );
    }
    const argv = ['netns', 'exec', netns, relayToolPath, 'wire'];
    argv.push('--a', engineSideIf, '--b', peerSideIf, ...args);
    const relay = new WireRelay(spawn('ip', argv, { stdio: ['ignore', 'pipe', 'pipe'] }));
    await relay.ready();
    return relay;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (why: string): void => {
        clearTimeout(timer);
        this.child.stderr?.removeListener('data', check);
        this.killSync();
        const detail = (this.stderr.trim() || this.stdout.trim()).slice(-500);
        reject(makeError('EIO', `wire relay ${why}: ${detail || '(no output)'}`));
      };
      const check = (): void => {
        if (!this.stderr.includes('wire: ready')) return;
        clearTimeout(timer);
        this.child.stderr?.removeListener('data', check);
        this.child.removeListener('close', onClose);
        resolve();
      };
      const onClose = (): void => fail('exited before it was ready');
      const timer = setTimeout(
        () => fail(`not ready within ${START_TIMEOUT_MS} ms`),
        START_TIMEOUT_MS,
      );
      this.child.stderr?.on('data', check);
      this.child.once('close', onClose);
      this.child.once('error', (err) => fail(`could not start (${err.message})`));
    });
  }

  private onStdout(s: string): void {
    this.stdout += s;
    let nl: number;
    while ((nl = this.stdout.indexOf('\n')) >= 0) {
      const line = this.stdout.slice(0, nl);
      this.stdout = this.stdout.slice(nl + 1);
      this.lineWaiters.shift()?.(line);
    }
  }

  private nextLine(timeoutMs: number): Promise<string | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.lineWaiters.indexOf(done);
        if (i >= 0) this.lineWaiters.splice(i, 1);
        resolve(undefined);
      }, timeoutMs);
      const done = (line: string | undefined): void => {
        clearTimeout(timer);
        resolve(line);
      };
      this.lineWaiters.push(done);
    });
  }

  /**
   * The counters now (SIGUSR1 makes the relay print them without stopping). Calls take turns:
   * two signals sent at once could merge into one report.
   */
  stats(): Promise<WireStats> {
    const turn = this.statsTurn.then(() => this.statsNow());
    this.statsTurn = turn.catch(() => undefined);
    return turn;
  }

  private async statsNow(): Promise<WireStats> {
    if (this.exited) {
      throw makeError('ESRCH', `the wire relay has exited: ${this.stderr.trim() || '(no output)'}`);
    }
    const line = this.nextLine(STATS_TIMEOUT_MS);
    this.child.kill('SIGUSR1');
    const text = await line;
    if (text === undefined) {
      throw makeError('ETIMEDOUT', `the wire relay did not report within ${STATS_TIMEOUT_MS} ms`);
    }
    return toStats(text);
  }

  /** Stops the relay (SIGTERM, SIGKILL if it lingers); resolves with its final counters. */
  async stop(): Promise<WireStats | undefined> {
    if (this.exited) return undefined;
    const line = this.nextLine(STOP_TIMEOUT_MS);
    this.child.kill('SIGTERM');
    const text = await line;
    if (!this.exited) {
      this.child.kill('SIGKILL');
      await this.exitPromise;
    }
    return text === undefined ? undefined : toStats(text);
  }

  /** For exit handlers and teardown: no counters, no waiting. */
  killSync(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}
