// Zero copy, shown directly: the bytes TypeScript writes into a UMEM frame are what the kernel peer
// receives (only the descriptor goes to the kernel), and a received frame is read from the UMEM
// SharedArrayBuffer at the address in its RX descriptor.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { TestBed } from '../../ts/testbed/testbed.js';
import { XdpBinding } from '../../ts/dev/xdp/xdp-binding.js';
import { XdpDevice } from '../../ts/dev/xdp/xdp-device.js';
import { Ipv4Header, parseIpv4Address, parseMac } from '../../ts/wire/index.js';
import { UDP4_HEADERS, writeUdp4Headers } from '../../ts/worker/loops/udp-frame.js';

const PY_RECV = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 9))
s.settimeout(10)
print("ready", flush=True)
data, _ = s.recvfrom(2048)
print(data.hex(), flush=True)
`;

const PY_SEND = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(bytes.fromhex(sys.argv[2]), (sys.argv[1], 9))
`;

describe('zero copy between the AF_XDP rings and TypeScript', function () {
  let bed: TestBed;
  let binding: XdpBinding;
  let device: XdpDevice;

  beforeEach(async function () {
    bed = await TestBed.up({ staticNeighbours: true });
    binding = XdpBinding.open({ ifname: bed.engineIf, ipv4: [bed.engineIpv4] });
    device = new XdpDevice({ ...binding.assignment(0), batch: 64 });
  });

  afterEach(async function () {
    try {
      device?.close();
      binding?.close();
    } finally {
      await bed?.down();
    }
  });

  it('sends the bytes written into the UMEM frame, by descriptor only', async function () {
    const payload = crypto.randomBytes(300);
    const receiver = bed.spawn(['python3', '-c', PY_RECV, bed.peerIpv4]);
    let out = '';
    receiver.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => receiver.on('exit', r));
    try {
      while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 20));
      // Write the packet through a view of our own over the SharedArrayBuffer, not the device's.
      const umem = new Uint8Array(binding.umemLayout.memory);
      const frame = device.allocate();
      const addr = frame + device.txDataOffset;
      const off = binding.umemLayout.offset + addr;
      const flow = {
        srcMac: parseMac(binding.info.mac),
        dstMac: parseMac(bed.peerMac),
        srcIp: parseIpv4Address(bed.engineIpv4),
        dstIp: parseIpv4Address(bed.peerIpv4),
        srcPort: 40000,
        dstPort: 9,
      };
      const len = writeUdp4Headers(umem, off, flow, new Ipv4Header(), payload.length);
      umem.set(payload, off + UDP4_HEADERS);
      assert.ok(device.send(addr, len));
      device.flush();
      await exited;
    } finally {
      receiver.kill();
    }
    const lines = out.trim().split('\n');
    assert.equal(lines[1], payload.toString('hex'));
    for (let i = 0; i < 100 && device.reap() === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.ok(device.audit().ok, device.audit().problems.join('; '));
  });

  it('reads a received frame from the SharedArrayBuffer at its descriptor address', async function () {
    const payload = crypto.randomBytes(200);
    const sent = await bed.exec(
      ['python3', '-c', PY_SEND, bed.engineIpv4, payload.toString('hex')],
      {
        timeoutMs: 10000,
      },
    );
    assert.equal(sent.code, 0, sent.stderr);
    let n = 0;
    for (let i = 0; i < 200 && n === 0; i++) {
      n = device.receive();
      if (n === 0) await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(n, 1);
    const addr = device.rxDesc[0];
    const len = device.rxDesc[1];
    assert.equal(len, 14 + 20 + 8 + payload.length);
    // A fresh view over the same SharedArrayBuffer sees the packet at offset + addr: the kernel
    // wrote it there and nothing copied it anywhere else on the way to TypeScript.
    const umem = new Uint8Array(binding.umemLayout.memory);
    const start = binding.umemLayout.offset + addr;
    assert.ok(addr < binding.umemLayout.frameSize * binding.umemLayout.frameCount);
    assert.deepEqual(Buffer.from(umem.subarray(start + 42, start + len)), payload);
    assert.equal(device.bytes.buffer, binding.umemLayout.memory);
    device.release(addr);
    assert.ok(device.audit().ok, device.audit().problems.join('; '));
  });
});

describe('XskPort handles: the data-path functions by id', function () {
  let bed: TestBed;
  let binding: XdpBinding;

  before(async function () {
    bed = await TestBed.up({ staticNeighbours: true });
    binding = XdpBinding.open({ ifname: bed.engineIf, ipv4: [bed.engineIpv4] });
  });

  after(async function () {
    try {
      binding?.close();
    } finally {
      await bed?.down();
    }
  });

  it('reach the open port by its handle, throw EBADF once it is closed, and never reuse one', async function () {
    const { nodeXdp } = await import('../../ts/dev/xdp/native.js');
    const native = nodeXdp();
    const words = (n: number) => new Uint32Array(new SharedArrayBuffer(4 * n));
    const socketId = binding.assignment(0).socketId;
    const open = () =>
      native.XskPort.open(socketId, {
        rx: words(128),
        tx: words(128),
        fill: words(64),
        comp: words(64),
      });
    const first = open();
    const handle = first.handle;
    assert.equal(native.xskRx(handle, 64), first.rx(64)); // nothing received: 0 both ways
    assert.equal(native.xskComplete(handle, 64), 0);
    first.close();
    for (const call of [
      () => native.xskRx(handle, 64),
      () => native.xskFill(handle, 1),
      () => native.xskTx(handle, 0),
      () => native.xskComplete(handle, 64),
    ]) {
      assert.throws(call, (err: Error & { code?: string }) => err.code === 'EBADF');
    }
    const second = open();
    try {
      assert.notEqual(second.handle, handle);
      assert.throws(
        () => native.xskRx(handle, 64),
        (err: Error & { code?: string }) => err.code === 'EBADF',
      );
      assert.equal(native.xskRx(second.handle, 64), 0);
    } finally {
      second.close();
    }
  });
});
