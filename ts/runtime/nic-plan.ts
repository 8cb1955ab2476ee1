// What the engine would do on an interface, from what the interface reports (nicInfo): where the
// XDP program would run, zero-copy or copy mode and why, need_wakeup, what busy polling would
// take, how the NIC's RSS meets the engine's, and how the queues would be shared out for a few
// worker counts. The same rules the engine runs by (bind-mode.ts, binding-plan.ts), applied
// without attaching anything: `xdpnet nic` prints it.
import { chooseAttachMode, chooseBindMode } from '../dev/xdp/bind-mode.js';
import { BUSY_POLL_DEFAULTS } from '../dev/xdp/busy-poll.js';
import { isUnsupported, type NicInfo } from '../dev/xdp/nic-info.js';
import { checkFrameFit, planBinding, type BindingKind, type BindingPlan } from './binding-plan.js';
import { chooseRss, type RssMode } from './rss-choice.js';

/** The engine with `workers` workers: how frames would reach them, or why it would refuse. */
export interface WorkerPlan {
  workers: number;
  kind?: BindingKind;
  /** The queues each worker would read ('dispatch': the dispatcher reads queue 0). */
  queuesOf?: number[][];
  /** What that means, in a line. */
  summary: string;
  /** The engine's own choice when `workers` is not given. */
  isDefault?: boolean;
  /** ENOTSUP and why, where the engine would refuse this count. */
  refused?: string;
}

export interface EngineOnNic {
  xdpMode: { mode: 'auto' | 'native' | 'generic'; why: string };
  bindMode: { mode: 'zerocopy' | 'copy' | 'auto'; why: string };
  needWakeup: { on: boolean; why: string };
  /** What `--busy-poll` would set, and what it needs to have an effect. */
  busyPoll: { sets: string; needs: string };
  /** How the NIC's RSS and the engine's flow ownership meet, one worker per queue. */
  rss: RssOnNic;
  workers: WorkerPlan[];
}

/** What `--rss` would do on a NIC (rss-choice.ts), with one worker per queue. */
export interface RssOnNic {
  /** The default's choice: 'follow' where the NIC's RSS can be followed, else 'software'. */
  mode: RssMode;
  why: string;
  notes: string[];
  /** 'possible', or why `--rss follow` / `--rss program` would be refused (ENOTSUP). */
  follow: string;
  program: string;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function workerPlan(info: NicInfo, workers: number, isDefault: boolean): WorkerPlan {
  const queues = Math.max(info.rxQueues, 1);
  try {
    const plan = planBinding(info.name, workers, queues);
    checkFrameFit(plan, info.mtu);
    const summary =
      plan.kind === 'dispatch'
        ? `the software-RSS dispatcher reads queue 0 and spreads it over ${plural(workers, 'worker')} by the engine's Toeplitz hash`
        : plan.kind === 'xdp'
          ? `one worker reads ${queues === 1 ? 'queue 0' : `all ${queues} queues`}`
          : `each worker reads ${plural(plan.queuesOf[0].length, 'queue')} (${plan.queuesOf
              .map((q, w) => `w${w}: ${q.join(',')}`)
              .join('; ')}) and hands flows it does not own to their owner (steering)`;
    return { workers, kind: plan.kind, queuesOf: plan.queuesOf, summary, isDefault };
  } catch (err) {
    const message = (err as Error).message;
    return { workers, summary: 'refused (ENOTSUP)', refused: message, isDefault };
  }
}

/** The worker counts worth showing: 1, 2, the queue count (the default) and the CPU count. */
export function workerCounts(queues: number, cpus: number): number[] {
  return [...new Set([1, 2, queues, cpus])].filter((n) => n >= 1).sort((a, b) => a - b);
}

function rssPlan(info: NicInfo, plan: BindingPlan): RssOnNic {
  const { mode, why, notes } = chooseRss(undefined, info, plan);
  const possible = (asked: RssMode): string => {
    try {
      chooseRss(asked, info, plan);
      return 'possible';
    } catch (err) {
      return (err as Error).message;
    }
  };
  return { mode, why, notes, follow: possible('follow'), program: possible('program') };
}

/**
 * What the engine would do on the interface `info` describes; `workers`: the counts to plan for
 * (default: 1, 2, the queue count and `cpus`).
 */
export function engineOnNic(info: NicInfo, cpus: number, workers?: number[]): EngineOnNic {
  const reading = isUnsupported(info.xdp)
    ? { unsupported: { code: info.xdp.code, message: info.xdp.unsupported } }
    : { features: { ...info.xdp, xdpFeaturesBits: 0 } };
  const attach = chooseAttachMode('auto', info.driver, reading);
  // 'auto' attaches native first where the kernel does not say; plan for that.
  const bind = chooseBindMode(
    'auto',
    attach.mode === 'generic' ? 'generic' : 'native',
    info.driver,
    reading,
  );
  const queues = Math.max(info.rxQueues, 1);
  const counts = workers ?? workerCounts(queues, cpus);
  const d = BUSY_POLL_DEFAULTS;
  return {
    xdpMode: attach,
    bindMode: bind,
    needWakeup: {
      on: true,
      why: 'every AF_XDP mode offers it (Linux 5.4+): an idle worker sleeps in poll(2) instead of waking the kernel on every loop',
    },
    busyPoll: {
      sets:
        `off unless --busy-poll: then SO_PREFER_BUSY_POLL, SO_BUSY_POLL ${d.usecs} µs and ` +
        `SO_BUSY_POLL_BUDGET ${d.budget} on each socket, and ${info.name}'s napi_defer_hard_irqs ` +
        `${d.deferHardIrqs} and gro_flush_timeout ${d.groFlushTimeoutNs} ns, put back on stop`,
      needs:
        attach.mode === 'generic'
          ? 'a NAPI id on the sockets, which generic XDP never gives: busy polling would poll ' +
            'nothing here, so the engine would leave the knobs alone'
          : 'a NAPI id on the sockets (drivers that register their XDP RX queues with one; veth ' +
            'does not): where the first packets bring none, the engine puts the knobs back and ' +
            'stops its idle syscalls; engine.xdp.busyPoll says which',
    },
    rss: rssPlan(info, planBinding(info.name, queues, queues)),
    workers: counts.map((n) => workerPlan(info, n, workers === undefined && n === queues)),
  };
}
