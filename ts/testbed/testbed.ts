// The built-in test bed: a veth pair whose engine end stays here without kernel addresses and
// whose peer end sits in a namespace of its own, where the Linux kernel is the real peer. A wire
// bed puts a userspace relay between the two (wire-relay.ts) that does what netem would.
// A tool for tests, perf and the demo; no part of the stack depends on it.
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import {
  type BedAddresses,
  type BedNames,
  SLOT_COUNT,
  bedAddresses,
  bedNames,
  sinkIfName,
  wireNames,
} from './addressing.js';
import {
  type CommandError,
  type CommandOptions,
  type CommandResult,
  makeError,
  mustRun,
  runCommand,
} from './command.js';
import { forgetOnExit, removeOnExit } from './exit-cleanup.js';
import {
  type NetemOptions,
  checkDirectionWithoutWire,
  checkWithoutNetem,
  isUnknownQdisc,
  lossFilterArgs,
  netemArgs,
  rateArgs,
  validateNetem,
  wireArgs,
} from './netem.js';
import {
  type BedState,
  claimState,
  isOwnerAlive,
  listStates,
  processStartTime,
  readState,
  readStateFile,
  removeState,
  stateExists,
  takeAbandonedReapings,
  takeForReaping,
} from './state.js';
import {
  type Owned,
  anyNameInUse,
  createVeth,
  destroyVeth,
  destroyVethSync,
  PEER_ROOT_QDISC,
} from './veth.js';
import { WireRelay, type WireStats } from './wire-relay.js';

export type { NetemOptions } from './netem.js';
export type { WireStats, WireDirectionStats } from './wire-relay.js';

export interface TestBedOptions {
  /** veth RX/TX queue count (default 1). */
  queues?: number;
  /** MTU of both ends (default 1500); the kernel checks the range. */
  mtu?: number;
  netem?: NetemOptions;
  /**
   * Permanent neighbour entries on the peer for the engine's IPv4/IPv6 addresses, for raw-frame
   * tests that run before the stack answers ARP/ND (default false).
   */
  staticNeighbours?: boolean;
  /** Leave the bed up when this process exits (`xdpnet testbed up`); default false. */
  persist?: boolean;
  /**
   * Put a userspace wire between the engine's veth and the peer's (default false): a relay
   * (`xdpnet-peer wire`, built by `npm run build:peer`) in a third, address-less namespace that
   * lets setNetem() delay, jitter, reorder and duplicate in either direction on kernels without
   * the netem qdisc. Everything else about the bed is unchanged. Cannot persist.
   */
  wire?: boolean;
}

export interface BedSummary extends BedState, BedAddresses {
  ownerAlive: boolean;
}

const MAX_QUEUES = 256;
/** Linux's default gso_max_segs (GSO_MAX_SEGS), restored when the loss filter goes. */
const GSO_MAX_SEGS = 65535;

/** Whether the kernel has the netem qdisc; learnt from the first setNetem(). */
let netemAvailable: boolean | undefined;

function checkOptions(opts: TestBedOptions): { queues: number; mtu: number } {
  const queues = opts.queues ?? 1;
  const mtu = opts.mtu ?? 1500;
  if (!Number.isInteger(queues) || queues < 1 || queues > MAX_QUEUES) {
    throw makeError('EINVAL', `queues must be an integer 1..${MAX_QUEUES}, got ${queues}`);
  }
  if (!Number.isInteger(mtu)) throw makeError('EINVAL', `mtu must be an integer, got ${mtu}`);
  if (opts.netem) validateNetem(opts.netem);
  if (opts.wire && opts.persist) {
    throw makeError(
      'ENOTSUP',
      'a wire bed cannot persist: its relay lives and dies with the process that made the bed',
    );
  }
  return { queues, mtu };
}

/** Claims the lowest slot whose record and kernel names are all free. */
function claimFreeSlot(queues: number, mtu: number, persist: boolean, wire: boolean): BedState {
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const names = bedNames(slot);
    if (stateExists(names.name)) continue;
    const state: BedState = {
      version: 1,
      ...names,
      pid: process.pid,
      pidStart: processStartTime(process.pid),
      persist,
      queues,
      mtu,
      createdAt: new Date().toISOString(),
      ...(wire ? { wireNetns: wireNames(slot).wireNetns } : {}),
    };
    if (!claimState(state)) continue;
    // Checked after claiming: a reaper deletes the link before the namespace, so both absent
    // here means nobody is still working on this slot.
    if (!anyNameInUse(names)) return state;
    removeState(names.name);
  }
  throw makeError(
    'EBUSY',
    `all ${SLOT_COUNT} test bed slots are taken; see \`xdpnet testbed list\` and ` +
      '`xdpnet testbed down`',
  );
}

const ALL_OWNED: Owned = { netns: true, link: true, wireNetns: true };

function summary(state: BedState): BedSummary {
  return { ...state, ...bedAddresses(state.slot), ownerAlive: isOwnerAlive(state) };
}

/** Expands an IPv6 address into its 8 groups, for prefix comparison. */
function ipv6Groups(ip: string): number[] {
  const [head, tail = ''] = ip.split('::');
  const parse = (s: string): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = parse(head);
  const t = ip.includes('::') ? parse(tail) : [];
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}

export class TestBed {
  readonly name: string;
  readonly slot: number;
  readonly engineIf: string;
  readonly peerIf: string;
  readonly netns: string;
  readonly engineMac: string;
  readonly peerMac: string;
  readonly engineIpv4: string;
  readonly peerIpv4: string;
  readonly ipv4Prefix: 24;
  readonly engineIpv6: string;
  readonly peerIpv6: string;
  readonly ipv6Prefix: 64;
  readonly queues: number;
  readonly mtu: number;
  readonly persist: boolean;
  /** Whether frames cross a userspace relay (TestBed.up({ wire: true })). */
  readonly wire: boolean;
  /** The relay's namespace, on a wire bed. */
  readonly wireNetns: string | undefined;

  private readonly owned: Owned = { netns: false, link: false, wireNetns: false };
  private relay: WireRelay | undefined;
  private readonly children = new Set<ChildProcess>();
  private downing: Promise<void> | undefined;
  private isDown = false;

  private constructor(state: BedState) {
    const a = bedAddresses(state.slot);
    this.name = state.name;
    this.slot = state.slot;
    this.engineIf = state.engineIf;
    this.peerIf = state.peerIf;
    this.netns = state.netns;
    this.engineMac = a.engineMac;
    this.peerMac = a.peerMac;
    this.engineIpv4 = a.engineIpv4;
    this.peerIpv4 = a.peerIpv4;
    this.ipv4Prefix = a.ipv4Prefix;
    this.engineIpv6 = a.engineIpv6;
    this.peerIpv6 = a.peerIpv6;
    this.ipv6Prefix = a.ipv6Prefix;
    this.queues = state.queues;
    this.mtu = state.mtu;
    this.persist = state.persist;
    this.wire = state.wireNetns !== undefined;
    this.wireNetns = state.wireNetns;
  }

  /**
   * Creates a bed. Beds of this user whose owner process died are removed first; a failure
   * half-way removes what was created before the error is thrown.
   */
  static async up(opts: TestBedOptions = {}): Promise<TestBed> {
    const { queues, mtu } = checkOptions(opts);
    await TestBed.reapStale();
    const wire = opts.wire ?? false;
    const bed = new TestBed(claimFreeSlot(queues, mtu, opts.persist ?? false, wire));
    // Registered before anything exists, so that even a signal during up() cleans up.
    if (!bed.persist) removeOnExit(bed);
    try {
      await createVeth(
        {
          names: bed.names(),
          addresses: bedAddresses(bed.slot),
          queues,
          mtu,
          staticNeighbours: opts.staticNeighbours ?? false,
          wire,
        },
        bed.owned,
      );
      if (wire && !opts.netem) await bed.startRelay([]);
      if (opts.netem) await bed.setNetem(opts.netem);
    } catch (err) {
      await bed.down().catch((rollbackErr: unknown) => {
        (err as { rollbackError?: unknown }).rollbackError = rollbackErr;
      });
      throw err;
    }
    return bed;
  }

  /** Every recorded bed, with whether its owner still runs. */
  static list(): BedSummary[] {
    return listStates().map(summary);
  }

  /** Removes beds whose owner died (persistent beds excepted); returns what was removed. */
  static async reapStale(): Promise<BedSummary[]> {
    const reaped: BedSummary[] = [];
    const jobs = takeAbandonedReapings();
    for (const state of listStates()) {
      if (state.persist || isOwnerAlive(state)) continue;
      const file = takeForReaping(state.name);
      if (file) jobs.push({ file, state: readStateFile(file) });
    }
    for (const { file, state } of jobs) {
      await destroyVeth(state, ALL_OWNED);
      fs.rmSync(file, { force: true });
      reaped.push(summary(state));
    }
    return reaped;
  }

  /**
   * Removes bed `name` from its record. Refuses a name that is not a bed name or whose record
   * names anything else (EINVAL/EPERM), and a bed whose owner still runs unless `force`
   * (EBUSY): that process is using it.
   */
  static async downByName(name: string, opts: { force?: boolean } = {}): Promise<BedSummary> {
    const state = readState(name);
    if (!state.persist && isOwnerAlive(state) && !opts.force) {
      throw makeError(
        'EBUSY',
        `test bed ${name} belongs to running process ${state.pid}; stop it, or use --force`,
      );
    }
    const gone = summary(state);
    await destroyVeth(state, ALL_OWNED);
    removeState(name);
    return gone;
  }

  private names(): BedNames {
    return {
      slot: this.slot,
      name: this.name,
      netns: this.netns,
      engineIf: this.engineIf,
      peerIf: this.peerIf,
    };
  }

  private checkUp(): void {
    if (this.isDown) throw makeError('ENODEV', `test bed ${this.name} is down`);
  }

  /** Runs argv in the peer namespace; resolves with its exit code, rejects on ETIMEDOUT. */
  async exec(argv: string[], opts: CommandOptions = {}): Promise<CommandResult> {
    this.checkUp();
    return runCommand(['ip', 'netns', 'exec', this.netns, ...argv], opts);
  }

  /** A long-running process in the peer namespace; down() kills it if it still runs. */
  spawn(argv: string[]): ChildProcess {
    this.checkUp();
    const child = spawn('ip', ['netns', 'exec', this.netns, ...argv], { stdio: 'pipe' });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    child.on('error', () => this.children.delete(child));
    return child;
  }

  /**
   * Impairs the peer's egress (frames towards the engine), replacing earlier settings. Without
   * kernel netem only lossPct, rateMbit and limit work (ENOTSUP for the rest; see netem.ts).
   * On a wire bed the relay restarts with every impairment, in `opts.direction` (default both
   * ways); rateMbit still shapes the peer's egress with tbf.
   */
  async setNetem(opts: NetemOptions): Promise<void> {
    this.checkUp();
    validateNetem(opts);
    if (this.wire) {
      await this.clearQdiscs();
      await this.startRelay(wireArgs(opts));
      if (opts.rateMbit !== undefined) await this.inNetns(rateArgs(this.peerIf, opts, this.mtu));
      return;
    }
    checkDirectionWithoutWire(opts);
    await this.clearNetem();
    if (netemAvailable !== false) {
      try {
        await this.inNetns([
          'tc',
          'qdisc',
          'replace',
          'dev',
          this.peerIf,
          'root',
          ...netemArgs(opts),
        ]);
        netemAvailable = true;
        return;
      } catch (err) {
        if (!isUnknownQdisc((err as CommandError).stderr)) throw err;
        netemAvailable = false;
      }
    }
    checkWithoutNetem(opts);
    if (opts.rateMbit !== undefined) await this.inNetns(rateArgs(this.peerIf, opts, this.mtu));
    if (opts.lossPct) await this.addLossFilter(opts.lossPct);
  }

  private async addLossFilter(pct: number): Promise<void> {
    const sink = sinkIfName(this.slot);
    if ((await runCommand(['ip', '-n', this.netns, 'link', 'show', 'dev', sink])).code !== 0) {
      await mustRun(['ip', '-n', this.netns, 'link', 'add', 'name', sink, 'type', 'ifb']);
      // Quiet: no link-local address, so it sends nothing of its own.
      await mustRun(['ip', '-n', this.netns, 'link', 'set', 'dev', sink, 'addrgenmode', 'none']);
    }
    await mustRun(['ip', '-n', this.netns, 'link', 'set', 'dev', sink, 'up']);
    // Loss per segment: the filter sees the skbs the peer's stack hands the veth, before GSO
    // splits them. Linux TCP builds GSO bursts of up to 64 KB even with `ethtool -K gso off`
    // (it segments in software after the filter), so "1%" of a 20 MB transfer could drop a
    // handful of bursts or none. gso_max_segs 1 makes every skb one segment; new connections
    // read it when they pick their route (sk_setup_caps).
    await this.setPeerGsoMaxSegs(1);
    await this.inNetns(['tc', 'qdisc', 'replace', 'dev', this.peerIf, 'clsact']);
    await this.inNetns(lossFilterArgs(this.peerIf, sink, pct));
  }

  /** Removes every impairment setNetem installed (a wire bed's relay restarts clean). */
  async clearNetem(): Promise<void> {
    this.checkUp();
    await this.clearQdiscs();
    if (this.wire) await this.startRelay([]);
  }

  /**
   * What the wire relay has counted per direction since it last (re)started, i.e. since the
   * last setNetem()/clearNetem(); ENOTSUP on a bed without a wire.
   */
  async wireStats(): Promise<WireStats> {
    this.checkUp();
    if (!this.wire) {
      throw makeError(
        'ENOTSUP',
        `test bed ${this.name} has no wire; create it with \`TestBed.up({ wire: true })\``,
      );
    }
    if (!this.relay) {
      throw makeError('ESRCH', `the wire relay of ${this.name} is not running (a restart failed)`);
    }
    return this.relay.stats();
  }

  /** (Re)starts the relay with `args` (netem.ts wireArgs); the old one's counters are lost. */
  private async startRelay(args: string[]): Promise<void> {
    const old = this.relay;
    this.relay = undefined;
    if (old) await old.stop();
    const w = wireNames(this.slot);
    this.relay = await WireRelay.start(w.wireNetns, w.wireEngineIf, w.wirePeerIf, args);
  }

  private async clearQdiscs(): Promise<void> {
    const tc = ['tc', 'qdisc'];
    const shown = (await this.inNetns([...tc, 'show', 'dev', this.peerIf])).stdout;
    if (/^qdisc (netem|tbf) \S+ root/m.test(shown)) {
      await this.inNetns([...tc, 'replace', 'dev', this.peerIf, 'root', ...PEER_ROOT_QDISC]);
    }
    if (/^qdisc clsact /m.test(shown)) {
      await this.inNetns([...tc, 'del', 'dev', this.peerIf, 'clsact']);
      await this.setPeerGsoMaxSegs(GSO_MAX_SEGS);
    }
  }

  private async setPeerGsoMaxSegs(segs: number): Promise<void> {
    const link = ['link', 'set', 'dev', this.peerIf, 'gso_max_segs', String(segs)];
    await mustRun(['ip', '-n', this.netns, ...link]);
  }

  private inNetns(argv: string[]): Promise<CommandResult> {
    return mustRun(['ip', 'netns', 'exec', this.netns, ...argv]);
  }

  /**
   * Gives the engine's end a kernel address inside the bed's own networks, for tests that check
   * that frames not for the engine still reach the kernel.
   */
  async addKernelAddressOnEngineSide(cidr: string): Promise<void> {
    this.checkUp();
    const [ip, len] = cidr.split('/');
    const prefix = Number(len);
    if (isIPv4(ip) && prefix >= 24 && prefix <= 32 && this.inOwnIpv4Net(ip)) {
      await mustRun(['ip', 'addr', 'add', cidr, 'dev', this.engineIf]);
    } else if (isIPv6(ip) && prefix >= 64 && prefix <= 128 && this.inOwnIpv6Net(ip)) {
      fs.writeFileSync(`/proc/sys/net/ipv6/conf/${this.engineIf}/disable_ipv6`, '0');
      await mustRun(['ip', 'addr', 'add', cidr, 'dev', this.engineIf, 'nodad']);
    } else {
      throw makeError(
        'EINVAL',
        `addKernelAddressOnEngineSide: '${cidr}' must be an address/prefix inside ` +
          `${this.engineIpv4}/24 or ${this.engineIpv6}/64 (traffic stays inside the bed)`,
      );
    }
  }

  private inOwnIpv4Net(ip: string): boolean {
    return ip.split('.').slice(0, 3).join('.') === this.engineIpv4.split('.').slice(0, 3).join('.');
  }

  private inOwnIpv6Net(ip: string): boolean {
    const want = ipv6Groups(this.engineIpv6);
    return ipv6Groups(ip)
      .slice(0, 4)
      .every((g, i) => g === want[i]);
  }

  toJSON(): object {
    return {
      name: this.name,
      netns: this.netns,
      engineIf: this.engineIf,
      peerIf: this.peerIf,
      engineMac: this.engineMac,
      peerMac: this.peerMac,
      engineIpv4: this.engineIpv4,
      peerIpv4: this.peerIpv4,
      ipv4Prefix: this.ipv4Prefix,
      engineIpv6: this.engineIpv6,
      peerIpv6: this.peerIpv6,
      ipv6Prefix: this.ipv6Prefix,
      queues: this.queues,
      mtu: this.mtu,
      persist: this.persist,
      wire: this.wire,
      ...(this.wireNetns ? { wireNetns: this.wireNetns } : {}),
      pid: process.pid,
    };
  }

  /** Removes the bed and kills processes left in its namespace. Idempotent. */
  down(): Promise<void> {
    this.downing ??= this.teardown().catch((err: unknown) => {
      this.downing = undefined; // let a later down() (or the exit handler) try again
      throw err;
    });
    return this.downing;
  }

  private async teardown(): Promise<void> {
    this.isDown = true;
    for (const child of this.children) child.kill('SIGKILL');
    this.relay?.killSync();
    this.relay = undefined;
    await destroyVeth(this.names(), this.owned);
    removeState(this.name);
    forgetOnExit(this);
  }

  /** For the process 'exit' handler. */
  cleanupSync(): void {
    this.isDown = true;
    for (const child of this.children) child.kill('SIGKILL');
    this.relay?.killSync();
    destroyVethSync(this.names(), this.owned);
    removeState(this.name);
  }
}
