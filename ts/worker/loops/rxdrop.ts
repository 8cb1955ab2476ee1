// rxdrop (xdpsock -r): receive, read each frame's Ethernet type in place, drop.
import type { FrameDevice } from '../../dev/frame-device.js';
import type { PacketLoop } from './packet-loop.js';

export class RxDropLoop implements PacketLoop {
  private ipv4 = 0;
  private ipv6 = 0;
  private other = 0;

  constructor(private readonly device: FrameDevice) {}

  step(): number {
    const dev = this.device;
    const n = dev.receive();
    const desc = dev.rxDesc;
    const view = dev.view;
    for (let i = 0; i < n; i++) {
      const addr = desc[2 * i];
      // Reading the header proves the bytes are there; it is all rxdrop does with them.
      const type = view.getUint16(dev.umemOffset + addr + 12);
      if (type === 0x0800) this.ipv4++;
      else if (type === 0x86dd) this.ipv6++;
      else this.other++;
      dev.release(addr);
    }
    dev.refill();
    return n;
  }

  done(): boolean {
    return false;
  }

  result(): Record<string, number> {
    return { ipv4: this.ipv4, ipv6: this.ipv6, other: this.other };
  }
}
