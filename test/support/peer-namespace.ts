// The kernel side of a test, run in the test bed's peer namespace: Python programs, counters.
import assert from 'node:assert/strict';
import type { TestBed } from '../../ts/testbed/testbed.js';

/** Runs `script` with `args` to its end; asserts it exited 0 and returns what it printed. */
export async function runPeerPython(
  bed: TestBed,
  script: string,
  args: string[],
  timeoutMs = 30000,
): Promise<string> {
  const r = await bed.exec(['python3', '-c', script, ...args], { timeoutMs });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** The peer kernel's TcpRetransSegs (nstat): how many segments it has resent so far. */
export async function peerRetransSegs(bed: TestBed): Promise<number> {
  const r = await bed.exec(['nstat', '-az', 'TcpRetransSegs']);
  const m = /TcpRetransSegs\s+(\d+)/.exec(r.stdout);
  assert.ok(m, r.stdout + r.stderr);
  return Number(m[1]);
}

/** The peer kernel's TCP counters that are not zero, as JSON (explains resets and drops). */
export async function peerTcpCounters(bed: TestBed): Promise<string> {
  const r = await bed.exec(['nstat', '-az', '--json']);
  const all = (JSON.parse(r.stdout) as { kernel: Record<string, number> }).kernel;
  const tcp = Object.entries(all).filter(([k, v]) => /^(Tcp|TcpExt)/.test(k) && v !== 0);
  return JSON.stringify(Object.fromEntries(tcp));
}
