// Impairments on the peer's egress (peer -> engine): loss, delay with jitter, reordering,
// duplication and a rate limit. With the netem qdisc (tc-netem(8)) all of them; on kernels built
// without CONFIG_NET_SCH_NETEM (this project's VM is one) loss and rate still work: loss as a
// classic BPF filter that picks packets at random (SKF_AD_RANDOM) and redirects them into the
// ingress of a spare ifb device, where the peer's stack drops them as not addressed to it; rate
// as a tbf qdisc. The sender sees no error in either case, as on a lossy wire.
// A wire bed (TestBed.up({ wire: true })) does all of them in userspace instead: its relay
// (xdpnet-peer wire) impairs either or both directions with netem's semantics (wireArgs below).
import { makeError } from './command.js';

export interface NetemOptions {
  lossPct?: number;
  delayMs?: number;
  jitterMs?: number;
  reorderPct?: number;
  duplicatePct?: number;
  rateMbit?: number;
  /** Queue length in packets (netem's default of 1000 drops bursts under a rate limit). */
  limit?: number;
  /**
   * Which frames a wire bed's relay impairs: 'both' (default), 'toEngine' (peer -> engine) or
   * 'toPeer'. Beds without a wire impair only peer -> engine. rateMbit always shapes the peer's
   * egress (toEngine).
   */
  direction?: 'both' | 'toEngine' | 'toPeer';
  /** Seed of a wire bed relay's random choices (default 1): equal seeds, equal choices. */
  seed?: number;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw makeError('EINVAL', `netem: ${what}`);
}

function isAmount(v: number | undefined): boolean {
  return v === undefined || (Number.isFinite(v) && v >= 0);
}

function isPercent(v: number | undefined): boolean {
  return v === undefined || (Number.isFinite(v) && v >= 0 && v <= 100);
}

export function validateNetem(opts: NetemOptions): void {
  check(isPercent(opts.lossPct), `lossPct must be 0..100, got ${opts.lossPct}`);
  check(isPercent(opts.reorderPct), `reorderPct must be 0..100, got ${opts.reorderPct}`);
  check(isPercent(opts.duplicatePct), `duplicatePct must be 0..100, got ${opts.duplicatePct}`);
  check(isAmount(opts.delayMs), `delayMs must be >= 0, got ${opts.delayMs}`);
  check(isAmount(opts.jitterMs), `jitterMs must be >= 0, got ${opts.jitterMs}`);
  check(isAmount(opts.rateMbit) && opts.rateMbit !== 0, `rateMbit must be > 0`);
  check(
    opts.limit === undefined || (Number.isInteger(opts.limit) && opts.limit > 0),
    `limit must be a positive integer, got ${opts.limit}`,
  );
  check(
    opts.direction === undefined || ['both', 'toEngine', 'toPeer'].includes(opts.direction),
    `direction must be 'both', 'toEngine' or 'toPeer', got ${String(opts.direction)}`,
  );
  check(
    opts.seed === undefined || (Number.isSafeInteger(opts.seed) && opts.seed >= 0),
    `seed must be a non-negative integer, got ${opts.seed}`,
  );
  // netem reorders by sending some packets at once while the rest wait out the delay.
  check(!opts.reorderPct || !!opts.delayMs, 'reorderPct needs delayMs > 0 (tc-netem(8))');
}

/** The arguments after `tc qdisc replace dev <if> root`. */
export function netemArgs(opts: NetemOptions): string[] {
  validateNetem(opts);
  const args = ['netem'];
  if (opts.limit !== undefined) args.push('limit', String(opts.limit));
  if (opts.delayMs !== undefined || opts.jitterMs !== undefined) {
    args.push('delay', `${opts.delayMs ?? 0}ms`);
    if (opts.jitterMs) args.push(`${opts.jitterMs}ms`);
  }
  if (opts.lossPct !== undefined) args.push('loss', `${opts.lossPct}%`);
  if (opts.reorderPct !== undefined) args.push('reorder', `${opts.reorderPct}%`);
  if (opts.duplicatePct !== undefined) args.push('duplicate', `${opts.duplicatePct}%`);
  if (opts.rateMbit !== undefined) args.push('rate', `${opts.rateMbit}mbit`);
  return args;
}

/** tc's answer when the kernel lacks a qdisc. */
export function isUnknownQdisc(stderr: string | undefined): boolean {
  return /qdisc kind is unknown/i.test(stderr ?? '');
}

export function checkWithoutNetem(opts: NetemOptions): void {
  const missing = (['delayMs', 'jitterMs', 'reorderPct', 'duplicatePct'] as const).filter(
    (k) => !!opts[k],
  );
  if (missing.length) {
    throw makeError(
      'ENOTSUP',
      `this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM), so ${missing.join(', ')} cannot ` +
        'be emulated on a plain bed; create the bed with `TestBed.up({ wire: true })`, whose ' +
        'userspace relay does all of them (only lossPct, rateMbit and limit work here)',
    );
  }
}

/** A bed without a wire has impairments only on the peer's egress. */
export function checkDirectionWithoutWire(opts: NetemOptions): void {
  if (opts.direction && opts.direction !== 'toEngine') {
    throw makeError(
      'ENOTSUP',
      `direction '${opts.direction}' needs a wire bed (\`TestBed.up({ wire: true })\`); ` +
        'a plain bed impairs only the peer -> engine direction',
    );
  }
}

/**
 * `xdpnet-peer wire` options for opts (rate is left to tbf). The relay's a side faces the
 * engine, so toPeer is a-to-b. `limit` bounds each direction's queue as it bounds netem's.
 */
export function wireArgs(opts: NetemOptions): string[] {
  validateNetem(opts);
  const args: string[] = [];
  const add = (flag: string, v: number | undefined): void => {
    if (v) args.push(flag, String(v));
  };
  add('--delay-ms', opts.delayMs);
  add('--jitter-ms', opts.jitterMs);
  add('--loss', opts.lossPct);
  add('--reorder', opts.reorderPct);
  add('--duplicate', opts.duplicatePct);
  add('--limit', opts.limit);
  add('--seed', opts.seed);
  const direction = { both: 'both', toPeer: 'a-to-b', toEngine: 'b-to-a' }[
    opts.direction ?? 'both'
  ];
  args.push('--direction', direction);
  return args;
}

// Classic BPF (filter.h): A = random u32; match (return -1) when A >= threshold.
const LD_RANDOM = '32 0 0 4294963256'; // BPF_LD|BPF_W|BPF_ABS, SKF_AD_OFF + SKF_AD_RANDOM
const JGE_K = 53; // BPF_JMP|BPF_JGE|BPF_K
const RET_MATCH = '6 0 0 4294967295';
const RET_NO_MATCH = '6 0 0 0';

/** cls_bpf bytecode matching each packet with probability pct/100. */
export function randomMatchBytecode(pct: number): string {
  const threshold = Math.min(0xffffffff, Math.round((1 - pct / 100) * 2 ** 32));
  return ['4', LD_RANDOM, `${JGE_K} 0 1 ${threshold}`, RET_MATCH, RET_NO_MATCH].join(',');
}

/** tc argv for loss: random packets of `dev`'s egress go into the ingress of `sinkDev`. */
export function lossFilterArgs(dev: string, sinkDev: string, pct: number): string[] {
  return ['tc', 'filter', 'replace', 'dev', dev, 'egress', 'prio', '1', 'handle', '1']
    .concat(['bpf', 'bytecode', randomMatchBytecode(pct)])
    .concat(['action', 'mirred', 'ingress', 'redirect', 'dev', sinkDev]);
}

/** tc argv for a token bucket at rateMbit: a burst of 4 ms of traffic (at least 10 frames). */
export function rateArgs(dev: string, opts: NetemOptions, mtu: number): string[] {
  const rate = opts.rateMbit ?? 0;
  const burst = Math.max(10 * (mtu + 14), Math.ceil((rate * 1e6) / 8 / 250));
  const queue =
    opts.limit !== undefined ? ['limit', String(opts.limit * (mtu + 14))] : ['latency', '100ms'];
  return ['tc', 'qdisc', 'replace', 'dev', dev, 'root', 'tbf']
    .concat(['rate', `${rate}mbit`, 'burst', String(burst)])
    .concat(queue);
}
