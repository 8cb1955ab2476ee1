// Busy polling for AF_XDP, as the kernel documents it (Documentation/networking/napi.rst, "IRQ
// mitigation"; the preferred busy-polling series, Linux 5.11): each socket gets
// SO_PREFER_BUSY_POLL, SO_BUSY_POLL (microseconds) and SO_BUSY_POLL_BUDGET, and the device's
// napi_defer_hard_irqs and gro_flush_timeout keep its interrupts masked while the application
// keeps polling: the data path's recvfrom/sendto then runs the driver's NAPI poll in the worker's
// own thread. If the application stops polling for gro_flush_timeout, the kernel takes the NAPI
// back (a timer, then interrupts after napi_defer_hard_irqs empty polls), so nothing is lost.
//
// The two device knobs live in /sys/class/net/IF/. They are set when a binding opens and put back
// to what they were when it closes. Where they cannot be written (no CAP_NET_ADMIN, no sysfs) the
// sockets still busy-poll, and the report says the interrupts were not deferred.
import fs from 'node:fs';
import path from 'node:path';

export interface BusyPollOptions {
  /** SO_BUSY_POLL: how long one busy-poll syscall may spin on the NAPI, µs (default 20). */
  usecs?: number;
  /** SO_BUSY_POLL_BUDGET: packets per busy-poll NAPI round (default 64, a worker's batch). */
  budget?: number;
  /** SO_PREFER_BUSY_POLL: keep the device's interrupts off while we poll (default true). */
  prefer?: boolean;
  /** The device's napi_defer_hard_irqs while the engine runs (default 2). */
  deferHardIrqs?: number;
  /** The device's gro_flush_timeout while the engine runs, ns (default 200000: 200 µs). */
  groFlushTimeoutNs?: number;
}

/** Busy polling as `--busy-poll [USECS]` and the engine's `busyPoll: true | USECS` give it. */
export function busyPollOptions(
  value: boolean | number | BusyPollOptions | undefined,
): BusyPollOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  if (typeof value === 'number') return { usecs: value };
  return value;
}

export const BUSY_POLL_DEFAULTS = {
  usecs: 20,
  budget: 64,
  prefer: true,
  deferHardIrqs: 2,
  groFlushTimeoutNs: 200_000,
} as const satisfies Required<BusyPollOptions>;

/** One device knob: the value while the engine runs, what it was, or why it was not set. */
export interface KnobReport {
  /**
   * The value in force (null when it could not be read): the one set while the engine runs, or
   * the previous one again where the knobs were put back early (see BusyPollFacts.notes).
   */
  value: number | null;
  /** The value before, put back when the binding closes. */
  previous: number | null;
  /** Why it was not set, if it was not. */
  unsupported?: string;
}

/** How busy polling came out on a binding. */
export interface BusyPollFacts {
  /** SO_BUSY_POLL and SO_PREFER_BUSY_POLL as every socket reads them back (getsockopt). */
  usecs: number;
  preferBusyPoll: boolean;
  /**
   * SO_BUSY_POLL_BUDGET as set. The kernel's getsockopt cannot report it (ENOPROTOOPT), so it is
   * checked only by setsockopt's success; where a kernel does report it, a differing value is a
   * note.
   */
  budget: number;
  napiDeferHardIrqs: KnobReport;
  groFlushTimeoutNs: KnobReport;
  /**
   * Each socket's SO_INCOMING_NAPI_ID when last read: the NAPI instance busy polling drives. 0
   * until the socket received a packet, or for good where the driver gives its XDP RX queue no
   * NAPI id (generic XDP): then busy polling has nothing to poll.
   */
  napiIds: number[];
  /** What that means, in words: what took effect and what did not. */
  notes: string[];
}

const KNOBS = {
  napiDeferHardIrqs: 'napi_defer_hard_irqs',
  groFlushTimeoutNs: 'gro_flush_timeout',
} as const;

type KnobName = keyof typeof KNOBS;

function knobPath(ifname: string, knob: KnobName): string {
  return path.join('/sys/class/net', ifname, KNOBS[knob]);
}

function readKnob(ifname: string, knob: KnobName): number {
  return Number(fs.readFileSync(knobPath(ifname, knob), 'utf8').trim());
}

/** The errno name and message of a failed sysfs access, for a report. */
function why(err: unknown, what: string): string {
  const e = err as NodeJS.ErrnoException;
  const hint = e.code === 'EACCES' || e.code === 'EPERM' ? ' (writing it needs CAP_NET_ADMIN)' : '';
  return `${what}: ${e.code ?? 'error'}${hint}`;
}

/**
 * The device's two NAPI knobs, set for busy polling and put back on `restore()`. A knob that
 * cannot be read or written is reported, not thrown: busy polling works without it, only the
 * interrupts are not deferred.
 */
export class DeviceNapiKnobs {
  private restored = false;

  private constructor(
    readonly ifname: string,
    readonly knobs: Record<KnobName, KnobReport>,
  ) {}

  static apply(ifname: string, deferHardIrqs: number, groFlushTimeoutNs: number): DeviceNapiKnobs {
    const want: Record<KnobName, number> = {
      napiDeferHardIrqs: deferHardIrqs,
      groFlushTimeoutNs,
    };
    const knobs = {} as Record<KnobName, KnobReport>;
    for (const knob of Object.keys(KNOBS) as KnobName[]) {
      const file = knobPath(ifname, knob);
      let previous: number | null = null;
      try {
        previous = readKnob(ifname, knob);
        fs.writeFileSync(file, String(want[knob]));
        knobs[knob] = { value: readKnob(ifname, knob), previous };
      } catch (err) {
        knobs[knob] = {
          value: previous,
          previous,
          unsupported: why(err, `${previous === null ? 'reading' : 'writing'} ${file}`),
        };
      }
    }
    return new DeviceNapiKnobs(ifname, knobs);
  }

  /**
   * Puts back the values the knobs had (the report then shows those). Idempotent; a failure is
   * reported, not thrown.
   */
  restore(): string[] {
    if (this.restored) return [];
    this.restored = true;
    const problems: string[] = [];
    for (const knob of Object.keys(KNOBS) as KnobName[]) {
      const { previous, unsupported } = this.knobs[knob];
      if (unsupported !== undefined || previous === null) continue;
      try {
        fs.writeFileSync(knobPath(this.ifname, knob), String(previous));
        this.knobs[knob] = { ...this.knobs[knob], value: previous };
      } catch (err) {
        // The interface may be gone already (a test bed removed first): nothing to restore.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          problems.push(why(err, `restoring ${knobPath(this.ifname, knob)} to ${previous}`));
        }
      }
    }
    return problems;
  }
}

/**
 * What the settings and NAPI ids mean for busy polling on `driver`; `received` is each socket's
 * packet count, which tells "no packet yet" from "the driver gives none".
 */
export function busyPollNotes(
  driver: string,
  facts: Omit<BusyPollFacts, 'notes'>,
  requestedUsecs: number,
  budgetsReadBack: (number | null | undefined)[],
  received: number[],
): string[] {
  const notes: string[] = [];
  if (facts.usecs !== requestedUsecs) {
    notes.push(`SO_BUSY_POLL reads back ${facts.usecs} µs, not the ${requestedUsecs} µs set`);
  }
  const budgets = budgetsReadBack.filter((b): b is number => typeof b === 'number');
  if (budgets.some((b) => b !== facts.budget)) {
    notes.push(`SO_BUSY_POLL_BUDGET reads back ${budgets.join('/')}, not the ${facts.budget} set`);
  }
  for (const knob of [facts.napiDeferHardIrqs, facts.groFlushTimeoutNs]) {
    if (knob.unsupported) {
      notes.push(`${knob.unsupported}: the device's interrupts are not deferred`);
    }
  }
  facts.napiIds.forEach((id, i) => {
    if (id !== 0) return;
    const socket = facts.napiIds.length > 1 ? `the socket of queue ${i}` : 'the socket';
    notes.push(
      received[i] > 0
        ? `${socket} received ${received[i]} packets but has no NAPI id: ${driver || 'the driver'} ` +
            'registers its XDP RX queue without one, so busy polling has no NAPI to poll here ' +
            '(the socket options are set, their syscalls poll nothing)'
        : `${socket} has no NAPI id yet: the kernel learns it from the first packet received`,
    );
  });
  return notes;
}
