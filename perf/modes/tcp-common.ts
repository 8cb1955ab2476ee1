// What the TCP perf modes (tcp-rr, tcp-crr, tcp-stream, http, epoll-echo) share besides
// app-versus-baseline: where the engine apps are, the kernel peer's load (xdpnet-peer tcp-rr,
// tcp-crr, tcp-echo, tcp-stream in the peer namespace) and the TCP figures.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { round, type PerfFigures, type PerfResult } from '../harness/perf-result.js';
import { runPeerTool } from '../harness/peer-tool.js';
import type { TestBed } from '../../ts/testbed/testbed.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Compiled examples (dist/examples). */
export const examplesDir = path.join(here, '../../examples');

/** Figures beyond the shared shape that TCP modes add (CPU per request, failed requests). */
export interface TcpFigures extends PerfFigures {
  cpuUsPerRequest?: number;
  errors?: number;
}

export type TcpPerfResult = PerfResult &
  TcpFigures & {
    /** The server module each side ran (perf http, https, express: the same file). */
    app?: string;
    baseline?: TcpFigures & { name: string; app?: string };
  };

/** A TCP load from the peer namespace (crates/xdpnet-peer); its command's options. */
export interface PeerLoad {
  /**
   * rr: round trips on one connection; crr: a connection per round trip; echo: `conns`
   * connections, each with one `size`-byte request outstanding; stream: bulk send.
   */
  load: 'rr' | 'crr' | 'echo' | 'stream';
  dst: string;
  port: number;
  seconds: number;
  /** Requests (rr, echo) or connections (crr); stream is bounded by `seconds` alone. */
  count?: number;
  /** echo: how many connections. */
  conns?: number;
  /** echo: request bytes. */
  size?: number;
}

/** Runs `xdpnet-peer tcp-<load>` in the peer namespace and parses its JSON line. */
export function peerLoad<T>(bed: TestBed, o: PeerLoad, timeoutMs: number): Promise<T> {
  const args = [`tcp-${o.load}`, '--dst', o.dst, '--port', String(o.port)];
  if (o.conns !== undefined) args.push('--conns', String(o.conns));
  if (o.size !== undefined) args.push('--size', String(o.size));
  if (o.count !== undefined) args.push('--count', String(o.count));
  args.push('--seconds', String(o.seconds));
  return runPeerTool<T>(bed, args, timeoutMs);
}

/** CPU microseconds per request, when there were any. */
export function perRequest(cpuSeconds: number, requests: number): number | undefined {
  return requests > 0 ? round((cpuSeconds * 1e6) / requests, 2) : undefined;
}
