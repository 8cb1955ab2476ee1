// The Interface over AF_XDP with the Linux kernel as the peer, cold neighbour caches on both
// sides: ARP and ND resolve both ways, ping and ping -6 get replies, arping gets answers, a
// 4000-byte ping is reassembled and its reply fragmented, gratuitous ARP reaches the peer's
// table, DAD finds a duplicate, and a closed UDP port gets the kernel an ICMP port unreachable.
import assert from 'node:assert/strict';
import { TestBed } from '../../ts/testbed/testbed.js';
import { XdpBinding } from '../../ts/dev/xdp/xdp-binding.js';
import { XdpDevice } from '../../ts/dev/xdp/xdp-device.js';
import { Interface } from '../../ts/iface/interface.js';
import { linkLocalFromMac, type InterfaceConfig } from '../../ts/iface/config.js';
import { SharedNeighbourTable } from '../../ts/iface/neighbour-table.js';
import { AddressState } from '../../ts/iface/address-states.js';
import { InputResult } from '../../ts/iface/transport.js';
import { parseMac } from '../../ts/wire/index.js';
import { DropReason } from '../../ts/wire/drop-reason.js';
import { UdpStack } from '../../ts/socket/udp/udp-stack.js';
import { TcpStack } from '../../ts/socket/tcp/tcp-stack.js';
import { runPeerPython } from '../support/peer-namespace.js';

interface Engine {
  iface: Interface;
  device: XdpDevice;
  binding: XdpBinding;
  stop(): Promise<void>;
}

/** Polls the interface from the event loop (setImmediate) until stopped, ticking every 5 ms. */
function pump(iface: Interface): () => Promise<void> {
  let running = true;
  let lastTick = 0;
  const done = new Promise<void>((resolve, reject) => {
    const loop = (): void => {
      if (!running) return resolve();
      try {
        iface.poll();
        const now = performance.now();
        if (now - lastTick >= 5) {
          lastTick = now;
          iface.tick();
        }
      } catch (err) {
        running = false;
        reject(err as Error);
        return;
      }
      setImmediate(loop);
    };
    loop();
  });
  return async () => {
    running = false;
    await done;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('iface on the test bed (kernel peer, AF_XDP)', function () {
  this.timeout(60_000);
  let bed: TestBed;
  let engine: Engine | undefined;

  before(async function () {
    bed = await TestBed.up();
  });

  after(async function () {
    await bed?.down();
  });

  async function startEngine(
    extra: Partial<InterfaceConfig> = {},
    extraV6: string[] = [],
  ): Promise<Engine> {
    // Cold caches on the peer side too.
    await bed.exec(['ip', 'neigh', 'flush', 'dev', bed.peerIf]);
    const linkLocal = linkLocalFromMac(parseMac(bed.engineMac));
    const config: InterfaceConfig = {
      mac: bed.engineMac,
      ipv4: [`${bed.engineIpv4}/${bed.ipv4Prefix}`],
      ipv6: [`${bed.engineIpv6}/${bed.ipv6Prefix}`, ...extraV6.map((a) => `${a}/64`)],
      gratuitousArp: 0,
      ...extra,
    };
    const binding = XdpBinding.open({
      ifname: bed.engineIf,
      framesPerQueue: 1024,
      ipv4: [bed.engineIpv4],
      // ff02::1 too: DAD hears a defending advertisement there (RFC 4862 5.4.5).
      ipv6: [bed.engineIpv6, linkLocal, 'ff02::1', ...extraV6],
    });
    const device = new XdpDevice({ ...binding.assignment(0), batch: 64 });
    const iface = new Interface(device, config, { neighbours: SharedNeighbourTable.create(64) });
    const stop = pump(iface);
    engine = { iface, device, binding, stop };
    return engine;
  }

  async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await sleep(20);
    }
  }

  async function waitDad(e: Engine): Promise<void> {
    const a = e.iface.addresses;
    await waitFor(
      () => {
        for (let i = 0; i < a.v6Count; i++) {
          const s = e.iface.addressStates.state(i);
          if (s === AddressState.Tentative || s === AddressState.Probing) return false;
        }
        return true;
      },
      5000,
      'DAD',
    );
  }

  afterEach(async function () {
    const e = engine;
    engine = undefined;
    if (!e) return;
    try {
      await e.stop();
      e.iface.close();
      // Quiet point: give the kernel back what it sent us, let TX complete.
      for (let i = 0; i < 100; i++) {
        const n = e.device.receive();
        for (let j = 0; j < n; j++) e.device.release(e.device.rxDesc[2 * j]);
        e.device.reap();
        const a = e.device.audit();
        if (a.ok && a.kernel.tx === 0 && a.kernel.comp === 0) break;
        await sleep(10);
      }
      const audit = e.device.audit();
      assert.ok(audit.ok, audit.problems.join('; '));
    } finally {
      e.device.close();
      e.binding.close();
    }
  });

  it('answers ping with cold neighbour caches on both sides (ARP both ways)', async function () {
    const e = await startEngine();
    const r = await bed.exec(['ping', '-c', '3', '-i', '0.2', '-W', '2', bed.engineIpv4], {
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, / 3 received/);
    assert.ok(e.iface.stats.echoRepliesSent >= 3);
    const neigh = await bed.exec(['ip', 'neigh', 'show', bed.engineIpv4, 'dev', bed.peerIf]);
    assert.match(neigh.stdout, new RegExp(bed.engineMac), 'the peer resolved the engine');
  });

  it('answers arping', async function () {
    const e = await startEngine();
    const r = await bed.exec(['arping', '-c', '3', '-w', '5', '-I', bed.peerIf, bed.engineIpv4], {
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Received 3 response/);
    assert.match(r.stdout.toLowerCase(), new RegExp(bed.engineMac));
    assert.ok(e.iface.stats.arpRepliesSent >= 3);
  });

  it('answers ping -6 to its global and link-local addresses after DAD (ND both ways)', async function () {
    const e = await startEngine();
    await waitDad(e);
    const r = await bed.exec(['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', bed.engineIpv6], {
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, / 3 received/);
    const ll = linkLocalFromMac(parseMac(bed.engineMac));
    const r2 = await bed.exec(
      ['ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', `${ll}%${bed.peerIf}`],
      {
        timeoutMs: 20_000,
      },
    );
    assert.equal(r2.code, 0, r2.stdout + r2.stderr);
    assert.ok(e.iface.stats.neighbourAdvertsSent >= 1);
    assert.ok(e.iface.stats.dadProbesSent >= 2, 'DAD probed the link-local and global address');
  });

  it('answers ping -6 to all nodes (ff02::1) from its link-local address, as Linux does', async function () {
    const e = await startEngine();
    await waitDad(e);
    const ll = linkLocalFromMac(parseMac(bed.engineMac));
    const r = await bed.exec(
      ['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', `ff02::1%${bed.peerIf}`],
      { timeoutMs: 20_000 },
    );
    // The peer's own kernel answers too; the engine's replies come from its link-local address.
    assert.match(r.stdout, new RegExp(`from ${ll}`), r.stdout + r.stderr);
    assert.ok(e.iface.stats.echoRepliesSent >= 3, `${e.iface.stats.echoRepliesSent} replies`);
  });

  it('loses nothing to a ping flood over IPv4 or IPv6 (20,000 each)', async function () {
    const e = await startEngine();
    await waitDad(e);
    for (const [family, address] of [
      ['-4', bed.engineIpv4],
      ['-6', bed.engineIpv6],
    ]) {
      const r = await bed.exec(['ping', family, '-f', '-c', '20000', '-W', '2', address], {
        timeoutMs: 60_000,
      });
      assert.match(r.stdout, / 20000 received, 0% packet loss/, `ping ${family}: ${r.stdout}`);
    }
    assert.equal(e.iface.stats.echoRepliesSent, 40_000);
  });

  it('reassembles a 4000-byte ping and fragments its reply (IPv4 and IPv6)', async function () {
    const e = await startEngine();
    const r = await bed.exec(
      ['ping', '-c', '2', '-i', '0.2', '-s', '4000', '-W', '2', bed.engineIpv4],
      {
        timeoutMs: 20_000,
      },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, / 2 received/);
    assert.match(r.stdout, /4008 bytes from/);
    await waitDad(e);
    const r6 = await bed.exec(
      ['ping', '-6', '-c', '2', '-i', '0.2', '-s', '4000', '-W', '2', bed.engineIpv6],
      { timeoutMs: 20_000 },
    );
    assert.equal(r6.code, 0, r6.stdout + r6.stderr);
    assert.match(r6.stdout, / 2 received/);
    assert.ok(e.iface.stats.reassembled >= 4, `reassembled ${e.iface.stats.reassembled}`);
    assert.ok(e.iface.stats.fragmentsSent >= 12, `fragments sent ${e.iface.stats.fragmentsSent}`);
  });

  it('announces itself with gratuitous ARP: the peer learns the engine before any request', async function () {
    await bed.exec(['sysctl', '-qw', `net.ipv4.conf.${bed.peerIf}.arp_accept=1`]);
    try {
      const e = await startEngine({ gratuitousArp: 1 });
      await waitFor(() => e.iface.stats.gratuitousArpSent >= 1, 2000, 'the announcement');
      let shown = '';
      for (let i = 0; i < 50 && !shown.includes(bed.engineMac); i++) {
        shown = (await bed.exec(['ip', 'neigh', 'show', bed.engineIpv4, 'dev', bed.peerIf])).stdout;
        await sleep(20);
      }
      assert.match(shown, new RegExp(bed.engineMac));
      assert.equal(e.iface.stats.arpRepliesSent, 0, 'learnt without asking');
    } finally {
      await bed.exec(['sysctl', '-qw', `net.ipv4.conf.${bed.peerIf}.arp_accept=0`]);
    }
  });

  it('finds a duplicate address by DAD and never uses it', async function () {
    const dup = bed.engineIpv6.replace(/::1$/, '::3');
    await bed.exec(['ip', 'addr', 'add', `${dup}/64`, 'dev', bed.peerIf, 'nodad']);
    try {
      const e = await startEngine({}, [dup]);
      await waitDad(e);
      const a = e.iface.addresses;
      const states = Array.from({ length: a.v6Count }, (_, i) => e.iface.addressStates.state(i));
      assert.deepEqual(states, [
        AddressState.Preferred,
        AddressState.Preferred,
        AddressState.Duplicated,
      ]);
      assert.equal(e.iface.stats.dadFailures, 1);
      const r = await bed.exec(['ping', '-6', '-c', '1', '-W', '2', bed.engineIpv6], {
        timeoutMs: 10_000,
      });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    } finally {
      await bed.exec(['ip', 'addr', 'del', `${dup}/64`, 'dev', bed.peerIf]);
    }
  });

  it('sends ICMP port unreachable for a closed UDP port (the kernel socket sees ECONNREFUSED)', async function () {
    const e = await startEngine();
    e.iface.registerTransport(17, { input: () => InputResult.NoSocket, icmpError: () => {} });
    const py = [
      'import socket, sys',
      's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
      's.connect((sys.argv[1], 9999))',
      's.settimeout(3)',
      's.send(b"hello")',
      'try:',
      '    s.recv(100)',
      '    print("data")',
      'except ConnectionRefusedError:',
      '    print("refused")',
      'except socket.timeout:',
      '    print("timeout")',
    ].join('\n');
    const r = await bed.exec(['python3', '-c', py, bed.engineIpv4], { timeoutMs: 10_000 });
    assert.equal(r.stdout.trim(), 'refused', r.stderr);
    assert.equal(e.iface.stats.icmpErrorsSent, 1);
  });

  it('takes TCP/UDP checksums the AF_XDP port verified, and still drops corrupted ones itself', async function () {
    const e = await startEngine();
    const udp = new UdpStack(e.iface);
    const tcp = new TcpStack(e.iface);
    const n = 20;
    // Raw frames from the peer's veth: per round a good and a corrupted UDP datagram to a closed
    // port, a corrupted SYN and a good SYN to a closed port (answered with a RST).
    const py = [
      'import socket, struct, sys',
      'ifname, dmac, smac, src, dst, n = sys.argv[1:7]',
      'def fold(b):',
      "    b = b + b'\\0' * (len(b) % 2)",
      "    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))",
      '    while s > 0xffff: s = (s & 0xffff) + (s >> 16)',
      '    return ~s & 0xffff',
      'def frame(proto, l4):',
      "    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), 1, 0, 64, proto, 0,",
      '                     socket.inet_aton(src), socket.inet_aton(dst))',
      "    ip = ip[:10] + struct.pack('!H', fold(ip)) + ip[12:]",
      "    mac = lambda m: bytes.fromhex(m.replace(':', ''))",
      "    return mac(dmac) + mac(smac) + b'\\x08\\x00' + ip + l4",
      'def pseudo(proto, l4):',
      "    return socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, proto, len(l4))",
      'def with_sum(proto, l4, at, flip):',
      '    c = fold(pseudo(proto, l4) + l4) or 0xffff',
      "    return l4[:at] + struct.pack('!H', c ^ flip) + l4[at + 2:]",
      's = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)',
      's.bind((ifname, 0))',
      'for i in range(int(n)):',
      '    payload = bytes(range(100 + i % 50)) * 3',
      "    udp = struct.pack('!HHHH', 40000, 9999, 8 + len(payload), 0) + payload",
      '    s.send(frame(17, with_sum(17, udp, 6, 0)))',
      '    s.send(frame(17, with_sum(17, udp, 6, 0x0101)))',
      "    syn = struct.pack('!HHIIBBHHH', 40001 + i, 9998, 1000 + i, 0, 5 << 4, 0x02, 65535, 0, 0)",
      '    s.send(frame(6, with_sum(6, syn, 16, 0x0101)))',
      '    s.send(frame(6, with_sum(6, syn, 16, 0)))',
      "print('sent')",
    ].join('\n');
    const args = [bed.peerIf, bed.engineMac, bed.peerMac, bed.peerIpv4, bed.engineIpv4, String(n)];
    assert.equal(await runPeerPython(bed, py, args), 'sent');
    const drops = e.iface.drops;
    await waitFor(
      () => drops[DropReason.TcpBadChecksum] + drops[DropReason.UdpBadChecksum] >= 2 * n,
      5000,
      'the corrupted datagrams',
    );
    await waitFor(() => tcp.stats.outRsts >= n, 5000, 'the RSTs to the good SYNs');
    assert.equal(drops[DropReason.UdpBadChecksum], n);
    assert.equal(drops[DropReason.TcpBadChecksum], n);
    assert.equal(udp.stats.inErrors, n, 'corrupted UDP counted as input errors');
    assert.equal(tcp.stats.inErrs, n, 'corrupted TCP counted as input errors');
    // The good ones came verified from the port: the stack never summed their bytes.
    assert.equal(e.iface.stats.l4ChecksumByDevice, 2 * n);
  });
});
