// The kernel objects of one bed: a network namespace and a veth pair whose peer end lives in it.
// The engine's end stays in this namespace without kernel addresses so that only the engine
// (through XDP/AF_XDP) answers for the bed's addresses; the peer end is an ordinary Linux host.
// A wire bed has two veth pairs instead, joined by a relay (xdpnet-peer wire) in a third,
// address-less namespace: engineIf <-> xn<slot>we [relay] xn<slot>wp <-> peerIf.
import * as fs from 'node:fs';
import { makeError, mustRun, runCommand, runCommandSync } from './command.js';
import { type BedAddresses, type BedNames, namesMatchSlot, wireNames } from './addressing.js';

export interface VethConfig {
  names: BedNames;
  addresses: BedAddresses;
  queues: number;
  mtu: number;
  staticNeighbours: boolean;
  /** Two veth pairs joined through a relay namespace instead of one pair. */
  wire: boolean;
}

/** What this process created, so that a rollback deletes nothing else. */
export interface Owned {
  netns: boolean;
  link: boolean;
  /** The wire namespace (its interfaces go with it). */
  wireNetns: boolean;
}

function inNetns(netns: string, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', netns, ...argv];
}

/** Writes a sysctl of this (the engine's) namespace. */
function writeSysctl(key: string, value: string): void {
  fs.writeFileSync(`/proc/sys/${key}`, value);
}

async function createLinks(cfg: VethConfig, owned: Owned): Promise<void> {
  const { names } = cfg;
  await mustRun(['ip', 'netns', 'add', names.netns]);
  owned.netns = true;
  if (cfg.wire) await createWireLinks(cfg, owned);
  else await createDirectLinks(cfg, owned);
}

async function createDirectLinks(cfg: VethConfig, owned: Owned): Promise<void> {
  const { names, addresses } = cfg;
  const q = String(cfg.queues);
  await mustRun(
    ['ip', 'link', 'add', 'name', names.engineIf, 'address', addresses.engineMac]
      .concat(['numtxqueues', q, 'numrxqueues', q, 'type', 'veth'])
      .concat(['peer', 'name', names.peerIf, 'address', addresses.peerMac])
      .concat(['numtxqueues', q, 'numrxqueues', q, 'netns', names.netns]),
  );
  owned.link = true;
}

/**
 * engineIf <-> xn<slot>we and xn<slot>wp <-> peerIf, the middle ends in the wire namespace. That
 * namespace has IPv6 off and no IPv4 addresses before any interface enters it, so it never
 * answers ARP or ND nor sends anything of its own: the relay is the only thing that moves frames.
 */
async function createWireLinks(cfg: VethConfig, owned: Owned): Promise<void> {
  const { names, addresses } = cfg;
  const w = wireNames(names.slot);
  const q = ['numtxqueues', String(cfg.queues), 'numrxqueues', String(cfg.queues)];
  await mustRun(['ip', 'netns', 'add', w.wireNetns]);
  owned.wireNetns = true;
  await mustRun(
    inNetns(w.wireNetns, ['sysctl', '-qw'])
      .concat(['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'])
      .concat(['net.ipv4.conf.all.forwarding=0', 'net.ipv4.conf.default.forwarding=0']),
  );
  await mustRun(
    ['ip', 'link', 'add', 'name', names.engineIf, 'address', addresses.engineMac, ...q].concat([
      'type',
      'veth',
      'peer',
      'name',
      w.wireEngineIf,
      ...q,
      'netns',
      w.wireNetns,
    ]),
  );
  owned.link = true;
  await mustRun(
    ['ip', '-n', w.wireNetns, 'link', 'add', 'name', w.wirePeerIf, ...q, 'type', 'veth']
      .concat(['peer', 'name', names.peerIf, 'address', addresses.peerMac, ...q])
      .concat(['netns', names.netns]),
  );
  for (const dev of [w.wireEngineIf, w.wirePeerIf]) {
    await mustRun(['ip', '-n', w.wireNetns, 'link', 'set', 'dev', dev, 'mtu', String(cfg.mtu)]);
    await mustRun(inNetns(w.wireNetns, ['ethtool', '-K', dev, ...NO_OFFLOADS]));
    await mustRun(['ip', '-n', w.wireNetns, 'link', 'set', 'dev', dev, 'up']);
  }
}

/**
 * AF_PACKET cannot send a frame longer than the MTU, and sees the frames a veth carries before
 * any segmentation: no GSO/TSO super-frames and no GRO merging on a wire's path, and full
 * checksums (tx off) so the relayed bytes are the bytes on the wire.
 */
const NO_OFFLOADS = ['tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'];

/**
 * The peer end's root qdisc, as a NIC has one (a veth gets noqueue). Without a queue a burst
 * that outruns the engine end overflows the veth ring, and the sender sees the drop as a failed
 * transmit: the kernel then drops a SYN-RECV request whose SYN-ACK retransmission failed
 * (reqsk_timer_handler) and answers the client's next SYN with a new ISN, so the client's ACK
 * draws a RST. With a queue the burst waits, as it would at a NIC's TX ring.
 */
export const PEER_ROOT_QDISC = ['pfifo', 'limit', '10000'];

/** Engine end: no IPv6 link-local (addrgenmode none, IPv6 off), never a forwarding hop. */
async function configureEngineEnd(cfg: VethConfig): Promise<void> {
  const dev = cfg.names.engineIf;
  await mustRun(['ip', 'link', 'set', 'dev', dev, 'addrgenmode', 'none']);
  writeSysctl(`net/ipv6/conf/${dev}/disable_ipv6`, '1');
  // Frames the XDP program passes up must not be routed on out of the host (traffic never
  // leaves the pair: docs/architecture.md#the-test-bed), whatever net.ipv4.ip_forward says.
  writeSysctl(`net/ipv4/conf/${dev}/forwarding`, '0');
  await mustRun(['ip', 'link', 'set', 'dev', dev, 'mtu', String(cfg.mtu)]);
  // Only kernel traffic (addKernelAddressOnEngineSide) uses offloads here; the relay must see it
  // in MTU-sized frames with real checksums.
  if (cfg.wire) await mustRun(['ethtool', '-K', dev, 'tx', 'off', 'tso', 'off', 'gso', 'off']);
  await mustRun(['ip', 'link', 'set', 'dev', dev, 'up']);
}

async function configurePeerEnd(cfg: VethConfig): Promise<void> {
  const { netns, peerIf: dev } = cfg.names;
  const a = cfg.addresses;
  const ipn = ['ip', '-n', netns];
  await mustRun(ipn.concat(['link', 'set', 'dev', 'lo', 'up']));
  // No DAD on the peer: its link-local and global addresses are usable at once.
  await mustRun(inNetns(netns, ['sysctl', '-qw', `net.ipv6.conf.${dev}.accept_dad=0`]));
  // The peer is the load generator of the connection-rate modes (tcp-crr: a connection per
  // request, each left in TIME-WAIT at the peer for 60 s). Linux's connect() takes the even ports
  // of the ephemeral range first and, once they are all in TIME-WAIT, probes every one of them
  // before an odd one: past about 14,000 connections each connect() cost milliseconds, whatever
  // server answered, and both the engine and Node measured the same 3,100 connections/s. So the
  // peer uses every unprivileged port, and takes over a TIME-WAIT more than a second old
  // (tcp_tw_reuse, safe with the timestamps both servers use: RFC 7323 5, PAWS).
  await mustRun(inNetns(netns, ['sysctl', '-qw', 'net.ipv4.ip_local_port_range=1024 65535']));
  await mustRun(inNetns(netns, ['sysctl', '-qw', 'net.ipv4.tcp_tw_reuse=1']));
  await mustRun(ipn.concat(['link', 'set', 'dev', dev, 'mtu', String(cfg.mtu)]));
  // With TX checksum offload the kernel sends partial checksums, which reach AF_XDP as invalid
  // (docs/architecture.md#verified-platform-facts).
  await mustRun(inNetns(netns, ['ethtool', '-K', dev, 'tx', 'off']));
  if (cfg.wire) await mustRun(inNetns(netns, ['ethtool', '-K', dev, 'tso', 'off', 'gso', 'off']));
  await mustRun(ipn.concat(['addr', 'add', `${a.peerIpv4}/${a.ipv4Prefix}`, 'dev', dev]));
  await mustRun(ipn.concat(['addr', 'add', `${a.peerIpv6}/${a.ipv6Prefix}`, 'dev', dev, 'nodad']));
  await mustRun(inNetns(netns, ['tc', 'qdisc', 'replace', 'dev', dev, 'root', ...PEER_ROOT_QDISC]));
  await mustRun(ipn.concat(['link', 'set', 'dev', dev, 'up']));
  if (cfg.staticNeighbours) {
    for (const ip of [a.engineIpv4, a.engineIpv6]) {
      await mustRun(
        ipn.concat(['neigh', 'replace', ip, 'lladdr', a.engineMac, 'dev', dev, 'nud', 'permanent']),
      );
    }
  }
}

/** Builds the bed; on failure `owned` says what exists and must be rolled back. */
export async function createVeth(cfg: VethConfig, owned: Owned): Promise<void> {
  await createLinks(cfg, owned);
  await configureEngineEnd(cfg);
  await configurePeerEnd(cfg);
}

function killAll(pids: string): void {
  for (const pid of pids.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/**
 * The last guard before deleting anything: only names the slot derives (xn<slot>e/p,
 * xdpnet-<slot>; the wire namespace's name is derived from the slot here, never read from state).
 */
function refuseForeign(names: BedNames): void {
  if (!namesMatchSlot(names)) {
    throw makeError(
      'EPERM',
      `refusing to delete ${names.engineIf}/${names.peerIf}/${names.netns}: ` +
        'not names the test bed creates (xn<slot>e, xn<slot>p, xdpnet-<slot>)',
    );
  }
}

/**
 * Deletes what `owned` marks: processes left in the namespace, the veth pair (deleting one end
 * deletes both), the namespace. Idempotent: what is already gone is skipped.
 */
export async function destroyVeth(names: BedNames, owned: Owned): Promise<void> {
  refuseForeign(names);
  const wireNetns = wireNames(names.slot).wireNetns;
  for (const [mine, netns] of [
    [owned.netns, names.netns],
    [owned.wireNetns, wireNetns],
  ] as const) {
    if (mine && fs.existsSync(`/run/netns/${netns}`)) {
      killAll((await runCommand(['ip', 'netns', 'pids', netns])).stdout);
    }
  }
  if (owned.link && fs.existsSync(`/sys/class/net/${names.engineIf}`)) {
    await mustRun(['ip', 'link', 'del', 'dev', names.engineIf]);
  }
  // Deleting a namespace deletes its interfaces, and with each veth end its partner.
  for (const [mine, netns] of [
    [owned.wireNetns, wireNetns],
    [owned.netns, names.netns],
  ] as const) {
    if (mine && fs.existsSync(`/run/netns/${netns}`)) await mustRun(['ip', 'netns', 'del', netns]);
  }
}

/** destroyVeth for process 'exit' handlers; never throws. */
export function destroyVethSync(names: BedNames, owned: Owned): void {
  if (!namesMatchSlot(names)) return;
  const wireNetns = wireNames(names.slot).wireNetns;
  if (owned.netns && fs.existsSync(`/run/netns/${names.netns}`)) {
    killAll(runCommandSync(['ip', 'netns', 'pids', names.netns]).stdout);
  }
  if (owned.wireNetns && fs.existsSync(`/run/netns/${wireNetns}`)) {
    killAll(runCommandSync(['ip', 'netns', 'pids', wireNetns]).stdout);
  }
  if (owned.link) runCommandSync(['ip', 'link', 'del', 'dev', names.engineIf]);
  if (owned.wireNetns) runCommandSync(['ip', 'netns', 'del', wireNetns]);
  if (owned.netns) runCommandSync(['ip', 'netns', 'del', names.netns]);
}

/** True if any of the bed's names exists in the kernel, whoever made it. */
export function anyNameInUse(names: BedNames): boolean {
  return (
    fs.existsSync(`/sys/class/net/${names.engineIf}`) ||
    fs.existsSync(`/sys/class/net/${names.peerIf}`) ||
    fs.existsSync(`/run/netns/${names.netns}`) ||
    fs.existsSync(`/run/netns/${wireNames(names.slot).wireNetns}`)
  );
}
