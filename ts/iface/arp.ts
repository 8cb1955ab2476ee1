// ARP for our IPv4 addresses (RFC 826): answer requests in place, learn senders into the shared
// neighbour table, and announce our addresses at start (gratuitous ARP, RFC 5227 3).

import { bytesEqual, copyBytes } from '../wire/bytes.js';
import { ETH_ALEN, ETH_HLEN, ETH_ZLEN, type EthernetHeader } from '../wire/ethernet.js';
import { ARP_LEN, ArpOperation, ArpPacket, parseArp, writeArp } from '../wire/arp.js';
import { DropReason } from '../wire/drop-reason.js';
import { TAKEN, type IfaceContext } from './context.js';
import type { LinkOutput } from './link-output.js';
import { newKey, setKey4 } from './shared-table.js';

const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const ZERO_MAC = new Uint8Array(6);
/** RFC 5227 1.1: ANNOUNCE_INTERVAL. */
const ANNOUNCE_INTERVAL_MS = 2000;

export class ArpHandler {
  private readonly arp = new ArpPacket();
  private readonly key = newKey();
  private announcementsLeft: number;
  private nextAnnouncement = 0;

  constructor(
    private readonly ctx: IfaceContext,
    private readonly link: LinkOutput,
    announcements: number,
  ) {
    this.announcementsLeft = announcements;
  }

  /** An ARP frame at device address `addr` (Ethernet header parsed into `eth`). */
  input(addr: number, eth: EthernetHeader): number {
    const ctx = this.ctx;
    const b = ctx.bytes;
    const arp = this.arp;
    const r = parseArp(b, eth.payloadOff, eth.payloadLen, arp);
    if (r !== DropReason.Ok) return r;
    const mine = ctx.addrs.mac;
    // RFC 5227 2.4: someone else using one of our addresses. We keep it (no defence yet).
    if (ctx.addrs.indexOf4(arp.senderIp) >= 0) {
      return bytesEqual(b, arp.senderMacOff, mine, 0, ETH_ALEN)
        ? DropReason.Ok // our own announcement looped back
        : DropReason.ArpAddressConflict;
    }
    const forUs = ctx.addrs.indexOf4(arp.targetIp) >= 0;
    // RFC 826 "merge": refresh a known sender; learn it if the packet is for us. A probe's sender
    // address is 0.0.0.0 (RFC 5227 2.1.1): nothing to learn.
    if (arp.senderIp !== 0 && (b[arp.senderMacOff] & 1) === 0) {
      const reachable = forUs && arp.operation === ArpOperation.Reply;
      const result = ctx.neighbours.confirm(
        setKey4(this.key, arp.senderIp),
        b,
        arp.senderMacOff,
        ctx.now,
        reachable,
        forUs,
        true,
      );
      this.link.noteConfirm(result);
    }
    if (!forUs) return DropReason.ArpNotForUs;
    if (arp.operation !== ArpOperation.Request) return DropReason.Ok;
    return this.replyInPlace(addr, eth);
  }

  // The request frame becomes the reply: no allocation, no copy of anything but addresses.
  private replyInPlace(addr: number, eth: EthernetHeader): number {
    const ctx = this.ctx;
    const b = ctx.bytes;
    const arp = this.arp;
    const off = ctx.offsetOf(addr);
    const requesterIp = arp.senderIp;
    const ourIp = arp.targetIp;
    copyBytes(b, off, b, arp.senderMacOff, ETH_ALEN); // Ethernet destination: the requester
    copyBytes(b, off + ETH_ALEN, ctx.addrs.mac, 0, ETH_ALEN);
    writeArp(b, eth.payloadOff, ArpOperation.Reply, ctx.addrs.mac, 0, ourIp, b, off, requesterIp);
    for (let i = ETH_HLEN + ARP_LEN; i < ETH_ZLEN; i++) b[off + i] = 0;
    if (this.link.sendRaw(addr, ETH_ZLEN) === 0) ctx.stats.arpRepliesSent++;
    return TAKEN;
  }

  /** Sends the start-up announcements when due (RFC 5227 3: two, 2 s apart). */
  tick(now: number): void {
    if (this.announcementsLeft <= 0 || now < this.nextAnnouncement) return;
    this.announcementsLeft--;
    this.nextAnnouncement = now + ANNOUNCE_INTERVAL_MS;
    const ctx = this.ctx;
    for (const ip of ctx.addrs.v4) {
      // RFC 5227 2.3: an announcement is a request with sender and target address both ours.
      if (this.link.sendArp(ArpOperation.Request, ip, ZERO_MAC, ip, BROADCAST) === 0) {
        ctx.stats.gratuitousArpSent++;
      }
    }
  }
}
