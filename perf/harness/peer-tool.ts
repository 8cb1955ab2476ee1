// Runs xdpnet-peer (crates/xdpnet-peer), the kernel-side load generator and sink, inside the test
// bed's peer namespace and parses the JSON line it ends with.
import fs from 'node:fs';
import { artifactPath, missingArtifactMessage } from '../../ts/dev/xdp/artifacts.js';
import type { TestBed } from '../../ts/testbed/testbed.js';

/** The build tree's (target/release) in a clone, the platform package's when installed. */
export const peerToolPath = artifactPath('xdpnet-peer');

export interface FloodReport {
  sent: number;
  bytes: number;
  seconds: number;
  pps: number;
  errors: number;
  cpuSeconds: number;
}

export interface SinkReport {
  received: number;
  bytes: number;
  seconds: number;
  pps: number;
  corrupt: number;
  duplicates: number;
  outOfOrder: number;
  cpuSeconds: number;
}

function requireTool(): void {
  if (!fs.existsSync(peerToolPath)) {
    throw Object.assign(new Error(missingArtifactMessage('xdpnet-peer')), { code: 'ENOENT' });
  }
}

/** Runs `xdpnet-peer <args>` in the peer namespace and returns its JSON report. */
export async function runPeerTool<T>(bed: TestBed, args: string[], timeoutMs: number): Promise<T> {
  requireTool();
  const { code, stdout, stderr } = await bed.exec([peerToolPath, ...args], { timeoutMs });
  const last = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || !last.startsWith('{')) {
    throw Object.assign(
      new Error(`xdpnet-peer ${args[0]} failed (exit ${code}): ${stderr.trim() || stdout.trim()}`),
      { code: 'EPEER' },
    );
  }
  return JSON.parse(last) as T;
}

/**
 * A UDP flood from the peer: `seconds` long (or `count` packets), payload `size` bytes; over
 * `flows` flows (source ports from `srcPortBase` up) when given.
 */
export function flood(
  bed: TestBed,
  o: {
    dst: string;
    port: number;
    size: number;
    seconds: number;
    count?: number;
    rate?: number;
    flows?: number;
    srcPortBase?: number;
  },
): Promise<FloodReport> {
  const args = ['flood', '--dst', o.dst, '--port', String(o.port), '--size', String(o.size)];
  args.push('--seconds', String(o.seconds));
  if (o.count) args.push('--count', String(o.count));
  if (o.rate) args.push('--rate', String(o.rate));
  if (o.flows) args.push('--flows', String(o.flows));
  if (o.srcPortBase) args.push('--src-port-base', String(o.srcPortBase));
  return runPeerTool<FloodReport>(bed, args, (o.seconds + 10) * 1000);
}
