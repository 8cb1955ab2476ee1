// A FrameDevice decorator that records every packet received and sent through the device it
// wraps into a pcap file, so a stack can be captured without knowing it (like tcpdump on an
// interface). Sent packets are recorded as the stack handed them over, before any fault of a
// memory port touches them.
//
// A tap passes on the device's receive-side checksum verdicts (rxChecksumOk) but not its offer
// to fill TCP checksums when sending (txTcpChecksum): the device would fill them after the tap
// recorded the segment, and the capture would show every TCP segment with a bad checksum. With
// a tap the stack computes them itself, as it does for devices without the offer.
import type { FrameDevice } from '../frame-device.js';
import { RX_CONTINUED } from '../xdp/umem-layout.js';
import type { PcapWriter } from './pcap-writer.js';

export interface PcapTapOptions {
  /** Record received packets; default true. */
  rx?: boolean;
  /** Record sent packets; default true. */
  tx?: boolean;
}

export class PcapTap<D extends FrameDevice = FrameDevice> implements FrameDevice {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly umemOffset: number;
  readonly frameSize: number;
  readonly txDataOffset: number;
  readonly batch: number;
  readonly rxDesc: Uint32Array;
  readonly rxChecksumOk?: Uint8Array;
  readonly largeTxRoom: number;
  private readonly rx: boolean;
  private readonly tx: boolean;

  constructor(
    /** The wrapped device, for its own extras (audit, counters, ...). */
    readonly device: D,
    readonly writer: PcapWriter,
    options: PcapTapOptions = {},
  ) {
    this.bytes = device.bytes;
    this.view = device.view;
    this.umemOffset = device.umemOffset;
    this.frameSize = device.frameSize;
    this.txDataOffset = device.txDataOffset;
    this.batch = device.batch;
    this.rxDesc = device.rxDesc;
    this.rxChecksumOk = device.rxChecksumOk;
    this.largeTxRoom = device.largeTxRoom ?? 0;
    this.rx = options.rx ?? true;
    this.tx = options.tx ?? true;
  }

  receive(): number {
    const n = this.device.receive();
    if (this.rx) {
      const desc = this.rxDesc;
      for (let i = 0; i < n; i++) {
        const len = desc[2 * i + 1];
        // A multi-buffer packet is not one run of bytes: it is left out of the capture (its
        // buffers would read as broken packets).
        if (len >= RX_CONTINUED) {
          while (i < n - 1 && desc[2 * i + 1] >= RX_CONTINUED) i++;
          continue;
        }
        this.writer.write(this.bytes, this.umemOffset + desc[2 * i], len);
      }
    }
    return n;
  }

  send(addr: number, len: number): boolean {
    if (!this.tx) return this.device.send(addr, len);
    // Record first: the device may change the bytes (a memory port's corruption fault).
    this.writer.write(this.bytes, this.umemOffset + addr, len);
    const sent = this.device.send(addr, len);
    if (!sent) this.writer.retract();
    return sent;
  }

  release(addr: number): void {
    this.device.release(addr);
  }

  allocate(): number {
    return this.device.allocate();
  }

  allocateLarge(): number {
    return this.device.allocateLarge?.() ?? -1;
  }

  flush(): number {
    return this.device.flush();
  }

  reap(): number {
    return this.device.reap();
  }

  refill(): number {
    return this.device.refill();
  }
}
