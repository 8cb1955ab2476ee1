// What the stack needs from a device: frames in one shared buffer, moved by descriptor in batches.
// The AF_XDP device and the memory device both provide it, so every layer above runs on either.
//
// A packet at address `addr` starts at byte `umemOffset + addr` of `bytes`; frames are
// `frameSize` bytes and aligned, so `addr & ~(frameSize - 1)` is the frame's base address.

/**
 * Where every frame of a device is, read from a running engine (a live census: each frame is in
 * exactly one place, so the places add up to `frames`). The kernel's rings are read as they are
 * at that moment: a frame the kernel moves meanwhile is counted where it was.
 */
export interface FrameAccount {
  frames: number;
  /** In the device's free stack. */
  free: number;
  /** Given to the kernel's fill ring, not yet received into. */
  fill: number;
  /** Received by the kernel, waiting in the RX ring for the next receive(). */
  rx: number;
  /** Held by the stack or the app: being parsed, queued for neighbour resolution, reassembly. */
  app: number;
  /** Queued by send() for the next flush(). */
  txQueued: number;
  /** In the kernel's TX ring or being sent. */
  tx: number;
  /** Sent, waiting in the completion ring to be reaped. */
  completion: number;
  /** Frame moves that started from the wrong place since the device opened (should be 0). */
  violations: number;
}

export interface FrameDevice {
  /** The frame memory (a SharedArrayBuffer view); packets are read and written here in place. */
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly umemOffset: number;
  readonly frameSize: number;
  /** Where a new TX packet starts inside its frame (room for headers in front). */
  readonly txDataOffset: number;
  /** Descriptors per batch. */
  readonly batch: number;
  /** [addr, len] pairs of the packets the last receive() returned. */
  readonly rxDesc: Uint32Array;
  /**
   * A device that verifies TCP/UDP checksums itself (smoltcp's ChecksumCapabilities, receive
   * side): rxChecksumOk[i] is 1 when the checksum of the i-th packet of the last receive() was
   * verified good, so the stack need not pass over its bytes again. 0 means "not checked": the
   * stack verifies. Absent on devices that check nothing.
   */
  readonly rxChecksumOk?: Uint8Array;
  /**
   * The device fills the TCP checksum of every unfragmented IPv4/IPv6 TCP segment it sends
   * (smoltcp's ChecksumCapabilities, send side): the stack need not compute it.
   */
  readonly txTcpChecksum?: boolean;
  /**
   * Multi-buffer devices (AF_XDP with XDP_USE_SG; Documentation/networking/af_xdp.rst,
   * "Multi-Buffer Support"): a received packet longer than one frame takes several consecutive
   * rxDesc entries, each but the last with RX_CONTINUED (bit 30) set in its length word; and
   * allocateLarge() hands out a run of contiguous frames holding `largeTxRoom` bytes from
   * `txDataOffset`, which send() takes whole (the device splits it into one descriptor per
   * frame). Absent or 0 on single-buffer devices, whose lengths never carry the bit.
   */
  readonly largeTxRoom?: number;
  /** A run of contiguous frames for one large packet (see largeTxRoom), or -1 when none is free. */
  allocateLarge?(): number;
  /** Where every frame is now; devices that keep no ledger of their frames leave it out. */
  frameAccount?(): FrameAccount;
  /**
   * How many more frames the send side may take now without starving the receive side (the
   * fill ring) or queueing more than the link drains soon; devices that cannot run short
   * (the memory device) leave it out. Transports that can wait (TCP's new data and FINs) ask
   * before building a segment, and wait for the next pass when it is 0 or less.
   */
  txRoom?(): number;

  /** Takes up to one batch of received packets into rxDesc; returns how many. */
  receive(): number;
  /** Gives a received or allocated frame back (any address inside the frame). */
  release(addr: number): void;
  /** A free frame's base address, or -1 when none is free. */
  allocate(): number;
  /** Queues a packet for sending; false when the queue and the ring are full (frame stays yours). */
  send(addr: number, len: number): boolean;
  /** Pushes queued packets to the wire; returns how many went. */
  flush(): number;
  /** Reclaims frames whose sending finished. */
  reap(): number;
  /** Keeps the receive side supplied with free frames. */
  refill(): number;
}
