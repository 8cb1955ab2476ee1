// l2fwd (xdpsock -l, testpmd macswap): receive, swap the MAC addresses in place, send back the
// same frame. No byte is copied: the descriptor goes from the RX ring to the TX ring.
import type { FrameDevice } from '../../dev/frame-device.js';
import type { PacketLoop } from './packet-loop.js';

export class L2FwdLoop implements PacketLoop {
  private dropped = 0;

  constructor(private readonly device: FrameDevice) {}

  step(): number {
    const dev = this.device;
    dev.reap();
    const n = dev.receive();
    const view = dev.view;
    for (let i = 0; i < n; i++) {
      const addr = dev.rxDesc[2 * i];
      const off = dev.umemOffset + addr;
      const d0 = view.getUint32(off);
      const d1 = view.getUint16(off + 4);
      view.setUint32(off, view.getUint32(off + 6));
      view.setUint16(off + 4, view.getUint16(off + 10));
      view.setUint32(off + 6, d0);
      view.setUint16(off + 10, d1);
      if (!dev.send(addr, dev.rxDesc[2 * i + 1])) {
        this.dropped++;
        dev.release(addr);
      }
    }
    dev.flush();
    dev.refill();
    return n;
  }

  done(): boolean {
    return false;
  }

  result(): Record<string, number> {
    return { dropped: this.dropped };
  }
}
