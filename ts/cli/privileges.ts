// The privileges a command needs, checked before it does any work: without them a user would
// read the first EACCES or EPERM some step deep inside hits (`open '/run/xdpnet/beds/...'`)
// rather than what to grant.
import fs from 'node:fs';
import path from 'node:path';
import { stateDir } from '../testbed/state.js';

/** Bits in /proc/<pid>/status's CapEff (linux/capability.h). */
const CAPABILITY_BITS = {
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_SYS_ADMIN: 21,
  CAP_BPF: 39,
} as const;

type Capability = keyof typeof CAPABILITY_BITS;

export interface Privilege {
  capability: Capability;
  /** What it is needed for, for the message. */
  why: string;
}

/** Creating and removing test beds: veth pairs in network namespaces. */
export const TEST_BED: readonly Privilege[] = [
  { capability: 'CAP_NET_ADMIN', why: 'veth links, addresses, qdiscs' },
  { capability: 'CAP_SYS_ADMIN', why: 'network namespaces' },
];

/** Running the engine on an interface: an XDP program and AF_XDP sockets. */
export const ENGINE: readonly Privilege[] = [
  { capability: 'CAP_NET_ADMIN', why: 'attaching the XDP program' },
  { capability: 'CAP_BPF', why: 'loading the XDP program and its maps' },
  { capability: 'CAP_NET_RAW', why: 'AF_XDP sockets' },
];

function readProc(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** This process's effective capabilities, or undefined where /proc cannot tell. */
function effectiveCapabilities(): bigint | undefined {
  const hex = /^CapEff:\s*([0-9a-f]+)$/im.exec(readProc('/proc/self/status') ?? '')?.[1];
  return hex === undefined ? undefined : BigInt(`0x${hex}`);
}

/** Kernels before 5.8 have no CAP_BPF: loading BPF programs takes CAP_SYS_ADMIN there. */
function onThisKernel(capability: Capability): Capability {
  const last = Number(readProc('/proc/sys/kernel/cap_last_cap') ?? NaN);
  const absent = Number.isFinite(last) && CAPABILITY_BITS[capability] > last;
  return absent ? 'CAP_SYS_ADMIN' : capability;
}

/** One entry per capability, its reasons joined: `CAP_NET_ADMIN (veth links, ...; attaching ...)`. */
function merged(needs: readonly Privilege[]): Map<Capability, string[]> {
  const byCapability = new Map<Capability, string[]>();
  for (const { capability, why } of needs) {
    const cap = onThisKernel(capability);
    byCapability.set(cap, [...(byCapability.get(cap) ?? []), why]);
  }
  return byCapability;
}

function missingCapabilities(wanted: Capability[]): Capability[] {
  const have = effectiveCapabilities();
  if (have === undefined) return [];
  return wanted.filter((cap) => (have & (1n << BigInt(CAPABILITY_BITS[cap]))) === 0n);
}

/**
 * Throws EPERM naming every capability `what` needs (and which of them this process lacks)
 * unless it has them all.
 */
export function requirePrivileges(what: string, needs: readonly Privilege[]): void {
  const wanted = merged(needs);
  const missing = missingCapabilities([...wanted.keys()]);
  if (missing.length === 0) return;
  const list = [...wanted].map(([cap, whys]) => `${cap} (${whys.join('; ')})`).join(', ');
  throw Object.assign(
    new Error(
      `${what} needs root or the capabilities ${list}; this process lacks ` +
        `${missing.join(', ')} (run it as root, e.g. with sudo)`,
    ),
    { code: 'EPERM' },
  );
}

/** The directory itself or, before it exists, the nearest ancestor it will be made in. */
function nearestExisting(dir: string): string {
  let at = dir;
  while (!fs.existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  return at;
}

/**
 * Test beds keep a record of themselves in the state directory (root's /run/xdpnet/beds by
 * default): EACCES naming it when this process cannot write there.
 */
export function requireBedStateAccess(what: string): void {
  const dir = stateDir();
  const at = nearestExisting(dir);
  try {
    fs.accessSync(at, fs.constants.W_OK);
  } catch {
    const where = at === dir ? dir : `${dir} (${at} is not writable)`;
    throw Object.assign(
      new Error(
        `${what} keeps its test beds' records in ${where}, where this process cannot write; ` +
          'run it as root, or point XDPNET_STATE_DIR at a directory it can write',
      ),
      { code: 'EACCES' },
    );
  }
}

/** Everything a command that creates test beds needs, checked in the order a user fixes them. */
export function requireBedPrivileges(what: string, more: readonly Privilege[] = []): void {
  requirePrivileges(what, [...TEST_BED, ...more]);
  requireBedStateAccess(what);
}
