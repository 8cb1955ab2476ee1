// rxcheck: receive UDP datagrams carrying xdpnet-peer's pattern and verify every byte in place.
// Done when `expect` distinct sequence numbers (0 .. expect-1) have arrived intact.
import type { FrameDevice } from '../../dev/frame-device.js';
import type { PacketLoop } from './packet-loop.js';
import { checkPattern } from './pattern.js';
import { UdpFrameParser } from './udp-frame.js';

export class RxCheckLoop implements PacketLoop {
  private readonly seen: Uint8Array;
  private intact = 0;
  private corrupt = 0;
  private duplicates = 0;
  private notUdp = 0;
  private payloadBytes = 0;
  private readonly parser = new UdpFrameParser();

  constructor(
    private readonly device: FrameDevice,
    private readonly expect: number,
    private readonly port: number,
  ) {
    this.seen = new Uint8Array(expect);
  }

  step(): number {
    const dev = this.device;
    const n = dev.receive();
    for (let i = 0; i < n; i++) {
      const addr = dev.rxDesc[2 * i];
      this.check(dev.umemOffset + addr, dev.rxDesc[2 * i + 1]);
      dev.release(addr);
    }
    dev.refill();
    return n;
  }

  private check(off: number, len: number): void {
    const udp = this.parser.udp;
    if (!this.parser.parse(this.device.bytes, off, len) || udp.dstPort !== this.port) {
      this.notUdp++;
      return;
    }
    const seq = checkPattern(this.device.bytes, udp.payloadOff, udp.payloadLen);
    if (seq < 0 || seq >= this.expect) {
      this.corrupt++;
    } else if (this.seen[seq]) {
      this.duplicates++;
    } else {
      this.seen[seq] = 1;
      this.intact++;
      this.payloadBytes += udp.payloadLen;
    }
  }

  done(): boolean {
    return this.intact >= this.expect;
  }

  result(): Record<string, number> {
    return {
      intact: this.intact,
      corrupt: this.corrupt,
      duplicates: this.duplicates,
      notUdp: this.notUdp,
      payloadBytes: this.payloadBytes,
    };
  }
}
