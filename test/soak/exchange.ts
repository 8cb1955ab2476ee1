// What one soak connection does, over xdpnet's net API. The client opens with a 20-byte header
// saying what it wants: send `up` bytes (checked by the server), get `down` bytes back (checked
// by the client), and how the connection ends: a FIN from either side, a reset from either side
// partway, an abort by the client whenever it happens to be, or nothing at all (an idle
// connection kept by keep-alive until the workload closes it). Both ends report what they saw
// once their socket has closed; the workload judges it against the plan.
import type { Socket } from '../../ts/api/net.js';
import { CHUNK, firstMismatch, streamSlice } from './stream-pattern.js';

export const Ending = {
  /** The client sends a FIN once it has everything; the server answers with its own. */
  ClientFin: 0,
  /** The server sends a FIN after the last byte down. */
  ServerFin: 1,
  /** The client resets once `resetAt` bytes down have arrived. */
  ClientReset: 2,
  /** The server resets once `resetAt` bytes up have arrived. */
  ServerReset: 3,
  /** The client destroys its socket at a moment the workload picks, wherever it has got to. */
  ClientAbort: 4,
  /** No data: the connection idles (keep-alive on) until the workload ends it with a FIN. */
  Idle: 5,
} as const;
export type Ending = (typeof Ending)[keyof typeof Ending];

export interface Plan {
  ending: Ending;
  up: number;
  down: number;
  /** Stream seed of the upload; the download's is derived from it. */
  seed: number;
  resetAt: number;
  /** An idle connection that a blackout should kill (keep-alive), so both ends expect it. */
  expectDeath: boolean;
}

/** What one end saw, reported when its socket closes. */
export interface EndReport {
  /** The error the socket closed with (its code), or null. */
  error: string | null;
  /** Bytes checked against the pattern (up at the server, down at the client). */
  verified: number;
  /** Bytes this end wrote that the socket took (down at the server, up at the client). */
  written: number;
  /** The peer's FIN arrived ('end'). */
  peerEnded: boolean;
  /** Offset of the first corrupt byte received, or -1. */
  mismatch: number;
  /** This end reset the connection as planned. */
  resetSent: boolean;
  /** Local and remote port, for failure messages (empty if it never connected). */
  ports: string;
}

const HEADER = 20;

function downSeed(seed: number): number {
  return (seed ^ 0x5a5a5a) >>> 0;
}

function encodeHeader(p: Plan): Buffer {
  const h = Buffer.alloc(HEADER);
  h.writeUInt8(p.ending, 0);
  h.writeUInt8(p.expectDeath ? 1 : 0, 1);
  h.writeUInt32BE(p.up, 4);
  h.writeUInt32BE(p.down, 8);
  h.writeUInt32BE(p.seed, 12);
  h.writeUInt32BE(p.resetAt, 16);
  return h;
}

function decodeHeader(h: Buffer): Plan {
  return {
    ending: h.readUInt8(0) as Ending,
    up: h.readUInt32BE(4),
    down: h.readUInt32BE(8),
    seed: h.readUInt32BE(12),
    resetAt: h.readUInt32BE(16),
    expectDeath: h.readUInt8(1) === 1,
  };
}

function newReport(): EndReport {
  return {
    error: null,
    verified: 0,
    written: 0,
    peerEnded: false,
    mismatch: -1,
    resetSent: false,
    ports: '',
  };
}

/** Writes `len` bytes of stream `seed` in chunks, waiting for 'drain' as a careful app does. */
function writeStream(s: Socket, seed: number, len: number, r: EndReport, done: () => void): void {
  const pump = (): void => {
    while (r.written < len && !s.destroyed) {
      const n = Math.min(CHUNK, len - r.written);
      const more = s.write(streamSlice(seed, r.written, n));
      r.written += n;
      if (!more) {
        s.once('drain', pump);
        return;
      }
    }
    if (r.written === len) done();
  };
  pump();
}

/** Checks a received chunk; false (and the socket destroyed) when it is corrupt. */
function checkChunk(s: Socket, seed: number, chunk: Buffer, r: EndReport): boolean {
  const bad = firstMismatch(seed, r.verified, chunk);
  if (bad >= 0) {
    r.mismatch = bad;
    s.destroy();
    return false;
  }
  r.verified += chunk.length;
  return true;
}

function reportOnClose(s: Socket, r: EndReport, done: (r: EndReport) => void): void {
  s.on('end', () => (r.peerEnded = true));
  s.on('error', (e: NodeJS.ErrnoException) => (r.error ??= e.code ?? e.message));
  s.once('close', () => {
    if (s.localPort !== undefined) r.ports = `${s.localPort}->${s.remotePort}`;
    done(r);
  });
}

/** The server's side of a connection (an accepted socket). */
export function serveExchange(s: Socket, done: (plan: Plan | null, r: EndReport) => void): void {
  const r = newReport();
  let head: Buffer = Buffer.alloc(0);
  let plan: Plan | null = null;
  reportOnClose(s, r, (rep) => done(plan, rep));
  const startDown = (p: Plan): void =>
    writeStream(s, downSeed(p.seed), p.down, r, () => {
      if (p.ending === Ending.ServerFin) s.end();
    });
  s.on('data', (chunk: Buffer) => {
    if (plan === null) {
      head = Buffer.concat([head, chunk]);
      if (head.length < HEADER) return;
      plan = decodeHeader(head);
      chunk = head.subarray(HEADER);
      if (plan.up === 0) startDown(plan);
    }
    const p = plan;
    if (chunk.length === 0 || !checkChunk(s, p.seed, chunk, r)) return;
    if (p.ending === Ending.ServerReset && r.verified >= p.resetAt) {
      r.resetSent = true;
      s.resetAndDestroy();
    } else if (r.verified === p.up) startDown(p);
  });
}

/** The client's side: sends the header and the upload, checks the download, ends as planned. */
export function runExchange(s: Socket, plan: Plan, done: (r: EndReport) => void): void {
  const r = newReport();
  reportOnClose(s, r, done);
  const finish = (): void => {
    if (plan.ending === Ending.ClientFin && r.verified === plan.down && !s.destroyed) s.end();
  };
  s.once('connect', () => {
    if (s.write(encodeHeader(plan))) writeStream(s, plan.seed, plan.up, r, finish);
    else s.once('drain', () => writeStream(s, plan.seed, plan.up, r, finish));
  });
  s.on('data', (chunk: Buffer) => {
    if (!checkChunk(s, downSeed(plan.seed), chunk, r)) return;
    if (plan.ending === Ending.ClientReset && r.verified >= plan.resetAt) {
      r.resetSent = true;
      s.resetAndDestroy();
    } else finish();
  });
}
