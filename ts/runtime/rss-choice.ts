// How the engine's flow ownership meets the NIC's RSS, decided from what the NIC reports and the
// binding plan, before anything is set up (Engine.start's `rss` option; `xdpnet nic` prints it):
//
// - 'follow': ownership (and connect()'s choice of source port) uses the NIC's own key and
//   indirection table as read, so the NIC puts each flow on a queue its owner reads.
// - 'program': the engine writes its key, a table spreading the buckets over the workers' queues
//   and 4-tuple hashing for TCP and UDP over IPv4 and IPv6 to the NIC, then follows what it
//   wrote; the NIC's own settings go back on stop.
// - 'software': the engine's own key and RETA; a flow the NIC put on another worker's queue is
//   handed to its owner (steering), or the dispatcher spreads the one queue.
//
// The default follows where the NIC reports a key and table the engine can follow, and falls back
// to software elsewhere (veth, which reports neither), saying why. Asked for explicitly, 'follow'
// and 'program' fail with ENOTSUP where they cannot work.
import type { NicRssSettings } from '../dev/xdp/nic-rss-writer.js';
import {
  isUnsupported,
  type FlowType,
  type NicRssReading,
  type RssInfo,
} from '../dev/xdp/nic-info.js';
import {
  DEFAULT_RSS_KEY,
  MIN_FOLLOWED_KEY_BYTES,
  Reta,
  keyOfLength,
  queueTableSpreading,
  retaFollowingQueues,
} from '../rss/index.js';
import type { BindingPlan } from './binding-plan.js';

export type RssMode = 'program' | 'follow' | 'software';

export const RSS_MODES: readonly RssMode[] = ['program', 'follow', 'software'];

/** RXH_IP_SRC | RXH_IP_DST | RXH_L4_B_0_1 | RXH_L4_B_2_3: the 4-tuple the engine hashes. */
export const FOUR_TUPLE_FIELDS = 0xf0;

const FLOW_TYPES: readonly FlowType[] = ['tcp4', 'udp4', 'tcp6', 'udp6'];

export interface RssChoice {
  mode: RssMode;
  /** What the user asked for ('default': nothing). */
  requested: RssMode | 'default';
  /** Why this mode, in a sentence. */
  why: string;
  /** The key and RETA (bucket -> worker, 128 or 512 entries) that decide who owns a flow. */
  key: Uint8Array;
  reta: Uint8Array;
  /** What else the user should know (fields the NIC hashes differently, say). */
  notes: string[];
  /** 'program' only: what the engine writes, and what it puts back on stop. */
  program?: { apply: NicRssSettings; restore: NicRssSettings };
}

function notSupported(message: string): Error {
  return Object.assign(new Error(message), { code: 'ENOTSUP' });
}

/** The worker that reads each queue in `plan` (-1: none). */
function workerOfQueue(plan: BindingPlan): (queue: number) => number {
  return (queue) => plan.queuesOf.findIndex((queues) => queues.includes(queue));
}

/** The NIC's RSS, or why the engine cannot use it at all. */
function reportedRss(nic: NicRssReading, plan: BindingPlan): RssInfo | string {
  if (plan.kind === 'dispatch') {
    return (
      `with more workers (${plan.workers}) than queues (${plan.queues}), the dispatcher spreads ` +
      "queue 0 over the workers by the engine's own hash: the NIC's RSS has no say"
    );
  }
  if (isUnsupported(nic.rss)) return nic.rss.unsupported;
  if (nic.rss.indirectionTable.length === 0) {
    return `${driverOf(nic)} reports no indirection table`;
  }
  return nic.rss;
}

function driverOf(nic: NicRssReading): string {
  return nic.driver || `the driver of '${nic.name}'`;
}

/** Why the engine cannot hash as the NIC does, or undefined where it can. */
function unfollowable(nic: NicRssReading, rss: RssInfo): string | undefined {
  if (rss.hashFunction !== 'toeplitz') {
    return `${driverOf(nic)} hashes with '${rss.hashFunction}', not Toeplitz`;
  }
  if (rss.inputTransform !== 'none') {
    return `${driverOf(nic)} transforms the fields (${rss.inputTransform}) before hashing`;
  }
  if (rss.key.length < MIN_FOLLOWED_KEY_BYTES) {
    return `${driverOf(nic)} reports a ${rss.key.length}-byte key; IPv6 flows need ${MIN_FOLLOWED_KEY_BYTES}`;
  }
  return undefined;
}

/** Notes on the flow types whose hash is not the 4-tuple the engine computes. */
function fieldNotes(nic: NicRssReading): string[] {
  return FLOW_TYPES.flatMap((flow) => {
    const hash = nic.flowHash[flow];
    if (isUnsupported(hash)) {
      return [
        `${flow}: the NIC does not say which fields it hashes; the engine hashes the 4-tuple`,
      ];
    }
    if (hash.bits === FOUR_TUPLE_FIELDS) return [];
    return [
      `${flow}: the NIC hashes ${hash.fields.join(', ') || 'nothing'}, the engine the 4-tuple: ` +
        "a flow it puts on another worker's queue is handed to its owner (steering)",
    ];
  });
}

/** 'follow' on what the NIC reports; throws ENOTSUP, saying why, where it cannot. */
function follow(
  nic: NicRssReading,
  plan: BindingPlan,
  requested: RssChoice['requested'],
): RssChoice {
  const rss = reportedRss(nic, plan);
  if (typeof rss === 'string') throw notSupported(rss);
  const why = unfollowable(nic, rss);
  if (why) throw notSupported(why);
  const reta = retaFollowingQueues(rss.indirectionTable, workerOfQueue(plan));
  return {
    mode: 'follow',
    requested,
    why:
      `${driverOf(nic)} reports its Toeplitz key (${rss.key.length} bytes) and ` +
      `${rss.indirectionTable.length}-entry indirection table: ownership follows them`,
    key: Uint8Array.from(rss.key),
    reta,
    notes: fieldNotes(nic),
  };
}

/** 'program': the engine's key, a table over the workers' queues, 4-tuple hashing. */
function program(nic: NicRssReading, plan: BindingPlan): RssChoice {
  const rss = reportedRss(nic, plan);
  if (typeof rss === 'string') throw notSupported(rss);
  if (rss.key.length < MIN_FOLLOWED_KEY_BYTES) {
    throw notSupported(
      `${driverOf(nic)} reports a ${rss.key.length}-byte key: the engine writes keys of ` +
        `${MIN_FOLLOWED_KEY_BYTES} bytes or more`,
    );
  }
  const table = queueTableSpreading(rss.indirectionTable.length, plan.workers);
  const key = keyOfLength(DEFAULT_RSS_KEY, rss.key.length);
  const reta = retaFollowingQueues(table, workerOfQueue(plan));
  const changeHashFunction = rss.hashFunction !== 'toeplitz';
  const fields = FLOW_TYPES.flatMap((flow) => {
    const hash = nic.flowHash[flow];
    return isUnsupported(hash) || hash.bits === FOUR_TUPLE_FIELDS
      ? []
      : [{ flow, bits: hash.bits }];
  });
  const restoredTransform = ['sym-xor', 'sym-or-xor'].includes(rss.inputTransform)
    ? rss.inputTransform
    : undefined;
  return {
    mode: 'program',
    requested: 'program',
    why:
      `the engine writes its Toeplitz key and a ${table.length}-entry indirection table over ` +
      `queues 0..${plan.workers - 1} to ${driverOf(nic)}, puts back the NIC's own on stop`,
    key: Uint8Array.from(key),
    reta,
    notes: fieldNotes({ ...nic, flowHash: fourTupleWhereReported(nic) }),
    program: {
      apply: {
        rss: {
          indirectionTable: table,
          key: Array.from(key),
          hashFunction: changeHashFunction ? 'toeplitz' : undefined,
        },
        flowHashes: fields.map(({ flow }) => ({ flow, bits: FOUR_TUPLE_FIELDS })),
      },
      restore: {
        rss: {
          indirectionTable: [...rss.indirectionTable],
          key: [...rss.key],
          // 'none' means the driver did not say: nothing to put back.
          hashFunction:
            changeHashFunction && rss.hashFunction !== 'none' ? rss.hashFunction : undefined,
          inputTransform: restoredTransform,
        },
        flowHashes: fields,
      },
    },
  };
}

/** The NIC's hashed fields once 'program' has made every reported one the 4-tuple. */
function fourTupleWhereReported(nic: NicRssReading): NicRssReading['flowHash'] {
  const fourTuple = {
    fields: ['ip-src', 'ip-dst', 'src-port', 'dst-port'],
    bits: FOUR_TUPLE_FIELDS,
  };
  return Object.fromEntries(
    FLOW_TYPES.map((flow) => [
      flow,
      isUnsupported(nic.flowHash[flow]) ? nic.flowHash[flow] : fourTuple,
    ]),
  ) as NicRssReading['flowHash'];
}

/** 'software': the engine's own key and default RETA (the dispatcher's is its own). */
function software(plan: BindingPlan, requested: RssChoice['requested'], why: string): RssChoice {
  return {
    mode: 'software',
    requested,
    why,
    key: Uint8Array.from(DEFAULT_RSS_KEY),
    reta: new Reta(plan.workers, 128).table,
    notes: [],
  };
}

const SOFTWARE_WHY =
  "its own Toeplitz key and RETA: a flow the NIC puts on another worker's queue is " +
  'handed to its owner (steering), and with more workers than queues the dispatcher spreads ' +
  'the queue';

/**
 * How ownership meets the NIC's RSS on the interface `nic` describes, with the queues shared out
 * as `plan` says. `requested` undefined: follow where possible, else software. Throws ENOTSUP
 * (with what to use instead) where 'follow' or 'program' was asked for and cannot work.
 */
export function chooseRss(
  requested: RssMode | undefined,
  nic: NicRssReading,
  plan: BindingPlan,
): RssChoice {
  if (requested === 'software')
    return software(plan, 'software', `asked for: the engine uses ${SOFTWARE_WHY}`);
  if (requested === undefined) {
    try {
      return follow(nic, plan, 'default');
    } catch (err) {
      const why = (err as Error).message;
      return software(plan, 'default', `${why}, so the engine uses ${SOFTWARE_WHY}`);
    }
  }
  if (requested !== 'follow' && requested !== 'program') {
    throw Object.assign(
      new Error(`rss must be one of ${RSS_MODES.join(', ')}, got '${String(requested)}'`),
      { code: 'EINVAL' },
    );
  }
  try {
    return requested === 'follow' ? follow(nic, plan, 'follow') : program(nic, plan);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOTSUP') throw err;
    throw notSupported(
      `rss: '${requested}' on ${nic.name}: ${(err as Error).message}; ` +
        "use rss: 'software' (--rss software), which steers flows between the workers instead",
    );
  }
}
