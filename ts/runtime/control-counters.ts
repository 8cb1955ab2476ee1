// The workers' counters arranged as `netstat -s` (/proc/net/snmp, /proc/net/netstat) arranges the
// kernel's: Ip, Icmp, Tcp, TcpExt, Udp sections with Linux's names where a counter means the same
// thing, and a Device section for the interface, the run loop and every non-zero drop reason.
import type { StackWorkerStats } from './stack-config.js';

export type CounterSection = 'Ip' | 'Icmp' | 'Tcp' | 'TcpExt' | 'Udp' | 'Device';
export type NetstatCounters = Record<CounterSection, Record<string, number>>;

const SECTIONS: CounterSection[] = ['Ip', 'Icmp', 'Tcp', 'TcpExt', 'Udp', 'Device'];

/**
 * TcpExtStats fields as /proc/net/netstat's TcpExt line names them (nstat shows TcpExtTCPTimeouts).
 * Fields without a Linux counter keep their own name, capitalized.
 */
const TCP_EXT_NAMES: Record<string, string> = {
  lossProbes: 'TCPLossProbes',
  lossProbeRecovery: 'TCPLossProbeRecovery',
  sackRecovery: 'TCPSackRecovery',
  renoRecovery: 'TCPRenoRecovery',
  timeouts: 'TCPTimeouts',
  challengeAcks: 'TCPChallengeACK',
  synChallenges: 'TCPSYNChallenge',
  ackSkippedChallenges: 'TCPACKSkippedChallenge',
};

/** Interface counters (IfaceStats) in the Ip section, by the name netstat gives them. */
const IP_FROM_IFACE: Record<string, string> = {
  InDelivers: 'deliveredToTransport',
  ReasmReqds: 'fragmentsReceived',
  ReasmOKs: 'reassembled',
  FragCreates: 'fragmentsSent',
  PmtuUpdates: 'pmtuUpdates',
  ArpRequestsSent: 'arpRequestsSent',
  ArpRepliesSent: 'arpRepliesSent',
  NeighbourSolicitsSent: 'neighbourSolicitsSent',
  NeighbourAdvertsSent: 'neighbourAdvertsSent',
};

/** Interface counters in the Icmp section, by the name netstat gives them. */
const ICMP_FROM_IFACE: Record<string, string> = {
  InErrorMsgs: 'icmpErrorsReceived',
  OutEchoReps: 'echoRepliesSent',
  OutErrorMsgs: 'icmpErrorsSent',
  OutRateLimited: 'icmpRateLimited',
};

/** The interface counters the Ip and Icmp sections show (the metrics export the rest apart). */
export const IFACE_COUNTERS_IN_SECTIONS: ReadonlySet<string> = new Set([
  ...Object.values(IP_FROM_IFACE),
  ...Object.values(ICMP_FROM_IFACE),
]);

function n(rec: Record<string, number>, key: string): number {
  return rec[key] ?? 0;
}

function fromIface(
  iface: Record<string, number>,
  names: Record<string, string>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, key] of Object.entries(names)) out[name] = n(iface, key);
  return out;
}

/**
 * Sum of the drop counters whose reason name starts with one of `prefixes`. Reason names are
 * snake_case (DROP_REASON_NAMES: 'ipv4_bad_checksum').
 */
function dropsStarting(drops: Record<string, number>, ...prefixes: string[]): number {
  let sum = 0;
  for (const [k, v] of Object.entries(drops)) if (prefixes.some((p) => k.startsWith(p))) sum += v;
  return sum;
}

/** Our camelCase TcpStats/UdpStats names as /proc/net/snmp spells them (activeOpens -> ActiveOpens). */
function snmpName(key: string): string {
  return key.charAt(0).toUpperCase() + key.slice(1);
}

/** A drop reason's snake_case name in the Device section's style (ipv4_bad_checksum -> Ipv4BadChecksum). */
function pascalReason(reason: string): string {
  return reason.split('_').map(snmpName).join('');
}

/** One worker's counters in netstat's sections. */
export function netstatCounters(s: StackWorkerStats): NetstatCounters {
  const { iface, drops, tcp, udp } = s;
  const Tcp: Record<string, number> = {};
  for (const [k, v] of Object.entries(tcp)) Tcp[snmpName(k)] = v;
  Tcp.InCsumErrors = n(drops, 'tcp_bad_checksum');
  const Udp: Record<string, number> = {};
  for (const [k, v] of Object.entries(udp)) Udp[snmpName(k)] = v;
  Udp.InCsumErrors = n(drops, 'udp_bad_checksum');
  const TcpExt: Record<string, number> = {};
  for (const [k, v] of Object.entries(s.tcpExt)) TcpExt[TCP_EXT_NAMES[k] ?? snmpName(k)] = v;
  const Device: Record<string, number> = {
    RxFrames: n(iface, 'rxFrames'),
    TxFrames: n(iface, 'txFrames'),
    LoopPasses: s.loop.passes,
    LoopParks: s.loop.parks,
    LoopNaps: s.loop.naps,
    CpuMillis: Math.round(s.loop.cpuSeconds * 1000),
  };
  // The live frame account (where every frame is): FramesTotal, FramesFree, FramesFill, ...
  if (s.frames !== undefined) {
    for (const [k, v] of Object.entries(s.frames)) {
      Device[k === 'frames' ? 'FramesTotal' : `Frames${snmpName(k)}`] = v;
    }
  }
  for (const [k, v] of Object.entries(drops)) if (v !== 0) Device[`Drop${pascalReason(k)}`] = v;
  return {
    Ip: { InHdrErrors: dropsStarting(drops, 'ipv4_', 'ipv6_'), ...fromIface(iface, IP_FROM_IFACE) },
    Icmp: {
      InErrors: dropsStarting(drops, 'icmpv4_', 'icmpv6_', 'nd_'),
      InCsumErrors: n(drops, 'icmpv4_bad_checksum') + n(drops, 'icmpv6_bad_checksum'),
      ...fromIface(iface, ICMP_FROM_IFACE),
    },
    Tcp,
    TcpExt,
    Udp,
    Device,
  };
}

/** The sum over workers, section by section (gauges like CurrEstab add up too). */
export function sumCounters(all: NetstatCounters[]): NetstatCounters {
  const total = { Ip: {}, Icmp: {}, Tcp: {}, TcpExt: {}, Udp: {}, Device: {} } as NetstatCounters;
  for (const c of all) {
    for (const sec of SECTIONS) {
      for (const [k, v] of Object.entries(c[sec])) total[sec][k] = (total[sec][k] ?? 0) + v;
    }
  }
  return total;
}

export function counterSections(): readonly CounterSection[] {
  return SECTIONS;
}
