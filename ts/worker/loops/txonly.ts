// txonly (xdpsock -t): build UDP/IPv4 datagrams carrying the test pattern in free frames and send
// them, optionally paced to a rate and bounded by a count.
import type { FrameDevice } from '../../dev/frame-device.js';
import type { PacketLoop } from './packet-loop.js';
import { writePattern } from './pattern.js';
import { UDP4_HEADERS, writeUdp4Headers, type Udp4Flow } from './udp-frame.js';
import { Ipv4Header } from '../../wire/index.js';

export interface TxOnlyOptions {
  flow: Udp4Flow;
  /** UDP payload bytes per datagram. */
  size: number;
  /** Datagrams to send; 0 = until stopped. */
  count: number;
  /** Datagrams per second; 0 = as fast as the ring takes them. */
  rate: number;
}

export class TxOnlyLoop implements PacketLoop {
  private seq = 0;
  private readonly started = performance.now();
  private readonly ip = new Ipv4Header();

  constructor(
    private readonly device: FrameDevice & {
      readonly pendingTx: number;
      readonly txInFlight: number;
    },
    private readonly opts: TxOnlyOptions,
  ) {}

  step(): number {
    const dev = this.device;
    dev.reap();
    let budget = dev.batch;
    if (this.opts.count > 0) budget = Math.min(budget, this.opts.count - this.seq);
    if (this.opts.rate > 0) {
      const allowed = ((performance.now() - this.started) / 1000) * this.opts.rate - this.seq;
      budget = Math.min(budget, Math.floor(allowed));
    }
    let sent = 0;
    for (; sent < budget; sent++) {
      const frame = dev.allocate();
      if (frame < 0) break;
      const addr = frame + dev.txDataOffset;
      const off = dev.umemOffset + addr;
      const len = writeUdp4Headers(dev.bytes, off, this.opts.flow, this.ip, this.opts.size);
      writePattern(dev.bytes, off + UDP4_HEADERS, this.opts.size, this.seq);
      if (!dev.send(addr, len)) {
        dev.release(frame);
        break;
      }
      this.seq++;
    }
    dev.flush();
    return sent;
  }

  done(): boolean {
    const dev = this.device;
    // Done once every datagram has left: queued, in the TX ring and completed.
    return (
      this.opts.count > 0 &&
      this.seq >= this.opts.count &&
      dev.pendingTx === 0 &&
      dev.txInFlight === 0
    );
  }

  result(): Record<string, number> {
    return { generated: this.seq };
  }
}
