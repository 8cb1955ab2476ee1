// What a NIC says about its queues, its receive-side scaling, its XDP support and its offloads,
// read through the addon's ethtool and netlink calls: the driver, the queues the engine must
// serve, the channel counts, the RSS hash function, key and indirection table (RETA), the fields
// hashed for TCP and UDP over IPv4 and IPv6, the netdev family's XDP features (native XDP,
// redirect, AF_XDP zero-copy, multi-buffer, AF_XDP TX offloads) and the ethtool offloads. A
// reading the driver does not offer is an `Unsupported` value saying so (veth
// offers none of the RSS ones), never a guess: the engine follows or programs the NIC's RSS only
// where the NIC reported it, and steers in software elsewhere.
import {
  nodeXdp,
  type ChannelCounts,
  type NativeFlowHash,
  type NativeOffload,
  type NativeUnsupported,
  type NativeXdpFeatures,
} from './native.js';

/** A reading the driver does not offer. */
export interface Unsupported {
  /** Why: "veth does not report its RSS key and indirection table (ETHTOOL_GRSSH: EOPNOTSUPP)". */
  unsupported: string;
  /** The errno name the kernel answered with (EOPNOTSUPP, or EINVAL for an unhashed flow type). */
  code: string;
}

/** The NIC's RSS as ETHTOOL_GRSSH reports it. */
export interface RssInfo {
  /** 'toeplitz', 'xor', 'crc32', 'none' (not said) or 'unknown(0x..)'. */
  hashFunction: string;
  /** 'none', or 'sym-xor' / 'sym-or-xor' for a symmetric hash. */
  inputTransform: string;
  /** The hash key's bytes; empty when the driver has none to report. */
  key: number[];
  /** RETA: the RX queue of each bucket (hash mod its length); empty when there is none. */
  indirectionTable: number[];
}

/** The fields a NIC hashes for one flow type (ETHTOOL_GRXFH). */
export interface FlowHashInfo {
  /** 'ip-src', 'ip-dst', 'src-port', 'dst-port', ...; empty: not hashed (one queue gets all). */
  fields: string[];
  /** The raw RXH_* bits. */
  bits: number;
}

export type FlowType = 'tcp4' | 'udp4' | 'tcp6' | 'udp6';

/** The netdev netlink family's NETDEV_CMD_DEV_GET, by name. */
export interface XdpFeatureInfo {
  /**
   * 'basic' (native XDP), 'redirect' (XDP_REDIRECT, which AF_XDP needs), 'ndo-xmit',
   * 'xsk-zerocopy', 'hw-offload', 'rx-sg' (multi-buffer RX), 'ndo-xmit-sg'. Empty: no native XDP;
   * generic XDP still works, in copy mode.
   */
  xdpFeatures: string[];
  /** Fragments a zero-copy AF_XDP frame may span (1: single-buffer); absent if not said. */
  xdpZcMaxSegs?: number;
  /** RX metadata for XDP programs: 'timestamp', 'hash', 'vlan-tag' (Linux 6.8+). */
  xdpRxMetadata?: string[];
  /** AF_XDP TX offloads: 'tx-timestamp', 'tx-checksum', 'tx-launch-time-fifo' (Linux 6.8+). */
  xskFeatures?: string[];
}

/** One offload (`ethtool -k`). */
export type OffloadInfo = NativeOffload;

/** What a NIC says about its RSS: what the engine follows or programs (nicRssReading). */
export interface NicRssReading {
  name: string;
  /** The kernel driver, for messages. */
  driver: string;
  rss: RssInfo | Unsupported;
  flowHash: Record<FlowType, FlowHashInfo | Unsupported>;
}

export interface NicInfo {
  name: string;
  ifindex: number;
  mac: string;
  mtu: number;
  /** The kernel driver ('veth', 'mlx5_core', ...), empty when the interface does not say. */
  driver: string;
  /** RX queues a socket can bind: the queues the NIC may put a flow on, all served by the engine. */
  rxQueues: number;
  channels: ChannelCounts | Unsupported;
  rss: RssInfo | Unsupported;
  flowHash: Record<FlowType, FlowHashInfo | Unsupported>;
  /** XDP and AF_XDP support (netdev netlink; ENOENT `Unsupported` before Linux 6.3). */
  xdp: XdpFeatureInfo | Unsupported;
  /** Every offload feature and whether it is on. */
  offloads: OffloadInfo[] | Unsupported;
}

/** True for a reading the driver does not offer. */
export function isUnsupported(reading: object): reading is Unsupported {
  return 'unsupported' in reading;
}

function unsupported(why: NativeUnsupported): Unsupported {
  return { unsupported: why.message, code: why.code };
}

/** The features by name; readings the kernel did not send are left out, not undefined. */
function xdpFeatureInfo(f: NativeXdpFeatures): XdpFeatureInfo {
  const info: XdpFeatureInfo = { xdpFeatures: f.xdpFeatures };
  if (f.xdpZcMaxSegs != null) info.xdpZcMaxSegs = f.xdpZcMaxSegs;
  if (f.xdpRxMetadata != null) info.xdpRxMetadata = f.xdpRxMetadata;
  if (f.xskFeatures != null) info.xskFeatures = f.xskFeatures;
  return info;
}

function flowHashInfo(hash: NativeFlowHash): FlowHashInfo | Unsupported {
  if (hash.unsupported) return unsupported(hash.unsupported);
  return { fields: hash.fields ?? [], bits: hash.bits ?? 0 };
}

/** What interface `ifname` says about its RSS (ETHTOOL_GRSSH, ETHTOOL_GRXFH per flow type). */
export function nicRssReading(ifname: string, driver: string): NicRssReading {
  const xdp = nodeXdp();
  const rss = xdp.nicRss(ifname);
  const flowHash = {} as Record<FlowType, FlowHashInfo | Unsupported>;
  for (const hash of xdp.nicFlowHashes(ifname)) flowHash[hash.flow] = flowHashInfo(hash);
  return {
    name: ifname,
    driver,
    rss: rss.facts ?? unsupported(rss.unsupported!),
    flowHash,
  };
}

/**
 * What interface `ifname` says about its queues and RSS. Throws (ENODEV, with what to check)
 * for an interface that does not exist; a reading the driver lacks is `Unsupported`.
 */
export function nicInfo(ifname: string): NicInfo {
  const xdp = nodeXdp();
  const info = xdp.interfaceInfo(ifname);
  const channels = xdp.nicChannels(ifname);
  const { rss, flowHash } = nicRssReading(ifname, info.driver);
  const features = xdp.nicXdpFeatures(ifname);
  const offloads = xdp.nicOffloads(ifname);
  return {
    name: info.name,
    ifindex: info.ifindex,
    mac: info.mac,
    mtu: info.mtu,
    driver: info.driver,
    rxQueues: info.rxQueues,
    channels: channels.counts ?? unsupported(channels.unsupported!),
    rss,
    flowHash,
    xdp: features.features ? xdpFeatureInfo(features.features) : unsupported(features.unsupported!),
    offloads: offloads.features ?? unsupported(offloads.unsupported!),
  };
}
