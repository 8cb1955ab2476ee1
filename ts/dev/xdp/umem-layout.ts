// Where frames live: one SharedArrayBuffer that every thread maps, of which the page-aligned
// interior is registered with the kernel as the UMEM. UMEM address A is byte `offset + A` of the
// buffer; frame i starts at UMEM address i * frameSize.

/** What a thread needs to find frames in the UMEM; plain data, so it crosses postMessage. */
export interface UmemLayout {
  memory: SharedArrayBuffer;
  /** Byte offset of UMEM address 0 inside `memory`. */
  offset: number;
  frameSize: number;
  frameCount: number;
  /** Bytes the kernel leaves free before RX data (the UMEM headroom). */
  headroom: number;
  /**
   * The sockets are bound with XDP_USE_SG (Documentation/networking/af_xdp.rst, "Multi-Buffer
   * Support"): a packet longer than one frame arrives as a chain of descriptors, and devices
   * send such packets from runs of contiguous frames.
   */
  multiBuffer?: boolean;
  /** With multiBuffer: the longest Ethernet frame the engine sends (MTU + 14). */
  maxFrameLen?: number;
}

/** Bit 30 of an RX length word from the port: the packet continues in the next descriptor. */
export const RX_CONTINUED = 0x40000000;

/** Ethernet header bytes in front of the IP datagram (no VLAN tags: the engine configures none). */
const ETH_HLEN = 14;

/** The UMEM frame size the engine uses unless told otherwise. */
export const DEFAULT_FRAME_SIZE = 2048;

/**
 * Whether an MTU needs multi-buffer frames: a whole Ethernet frame of `mtu` bytes of IP does not
 * fit the RX room of one UMEM frame (the frame less its headroom and XDP_PACKET_HEADROOM, which
 * copy mode leaves in front of the data: net/xdp/xsk_buff_pool.c `frame_len`).
 */
export function needsMultiBuffer(mtu: number, frameSize: number, headroom: number): boolean {
  return mtu + ETH_HLEN > frameSize - headroom - XDP_PACKET_HEADROOM;
}

/** XDP_PACKET_HEADROOM: in copy mode the kernel puts RX data this far past headroom. */
export const XDP_PACKET_HEADROOM = 256;

const PAGE = 4096;

/** A SharedArrayBuffer big enough for `frameCount` frames after page alignment. */
export function allocateUmemMemory(frameSize: number, frameCount: number): SharedArrayBuffer {
  if (frameSize !== 2048 && frameSize !== 4096) {
    throw Object.assign(new Error(`frame size must be 2048 or 4096, got ${frameSize}`), {
      code: 'EINVAL',
    });
  }
  if (!Number.isInteger(frameCount) || frameCount < 64 || frameSize * frameCount > 2 ** 31) {
    throw Object.assign(
      new Error(`frame count must be an integer from 64 up to 2 GiB of frames, got ${frameCount}`),
      { code: 'EINVAL' },
    );
  }
  // One extra page: the data pointer of a SharedArrayBuffer is not page-aligned.
  return new SharedArrayBuffer(frameSize * frameCount + PAGE);
}

/** log2 of a power-of-two frame size, for turning addresses into frame indices with a shift. */
export function frameShift(frameSize: number): number {
  return 31 - Math.clz32(frameSize);
}
