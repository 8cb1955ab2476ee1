// A UDP protocol control block: what the stack knows about one socket (local binding, the peer
// of a connected socket, its receiver). The API layer (ts/api/dgram.ts) owns the user-facing
// socket and gives the PCB a receiver; the stack only matches datagrams and sends.

import type { RxDatagram } from '../../iface/transport.js';

/** Where the stack hands what arrived for a PCB. Both calls run synchronously inside poll(). */
export interface UdpReceiver {
  /**
   * A datagram for this socket: payload at buf[off, off + len), source in `from` (src4 for
   * IPv4, 16 bytes at from.srcOff of buf for IPv6). Valid only during the call.
   */
  onDatagram(buf: Uint8Array, off: number, len: number, from: RxDatagram, srcPort: number): void;
  /**
   * An ICMP error for a connected socket, as the errno name Linux would report on the next
   * operation ("ECONNREFUSED", "EHOSTUNREACH", ...).
   */
  onIcmpError(code: string): void;
}

export class UdpPcb {
  /** An 'udp6' socket (may also carry IPv4 through IPv4-mapped addresses unless ipv6Only). */
  readonly v6Socket: boolean;
  readonly ipv6Only: boolean;
  readonly reuseAddr: boolean;
  readonly receiver: UdpReceiver;

  bound = false;
  localPort = 0;
  /** Receives IPv4 datagrams: to local4, or to any of our addresses when local4 is 0. */
  acceptsV4 = false;
  local4 = 0;
  /** Receives IPv6 datagrams: to local6, or to any of our addresses when local6Any. */
  acceptsV6 = false;
  local6Any = true;
  readonly local6 = new Uint8Array(16);

  connected = false;
  /** The connected peer: IPv4 (remote4) or IPv6 (16 bytes of remote6). */
  remoteIs4 = true;
  remote4 = 0;
  readonly remote6 = new Uint8Array(16);
  remotePort = 0;

  /** Next PCB bound to the same port (the stack's per-port list). */
  next: UdpPcb | null = null;

  constructor(v6Socket: boolean, ipv6Only: boolean, reuseAddr: boolean, receiver: UdpReceiver) {
    this.v6Socket = v6Socket;
    this.ipv6Only = v6Socket && ipv6Only;
    this.reuseAddr = reuseAddr;
    this.receiver = receiver;
  }

  /** True when this PCB and `other` would receive some of the same datagrams on one port. */
  overlaps(other: UdpPcb): boolean {
    if (this.acceptsV4 && other.acceptsV4) {
      if (this.local4 === 0 || other.local4 === 0 || this.local4 === other.local4) return true;
    }
    if (this.acceptsV6 && other.acceptsV6) {
      if (this.local6Any || other.local6Any) return true;
      for (let i = 0; i < 16; i++) if (this.local6[i] !== other.local6[i]) return false;
      return true;
    }
    return false;
  }
}
