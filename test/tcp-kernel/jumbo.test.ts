// Jumbo frames on the test bed: the bed and the engine at MTU 9000, so every full TCP segment is a
// 9014-byte Ethernet frame that spans three 4 KiB UMEM frames (AF_XDP multi-buffer, XDP_USE_SG;
// Documentation/networking/af_xdp.rst, "Multi-Buffer Support"). 100 MB each way between the
// engine and the Linux kernel, with SHA-256 digests computed independently at both ends; the
// kernel must see the MSS the MTU allows (RFC 9293 3.7.1: MTU - 40 for IPv4, - 60 for IPv6), the
// frames must really have been chains, and the engine's frame accounting must balance at stop.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import type { Engine } from '../../ts/runtime/engine.js';
import { startEngineOnBed, stopEngineAndBed } from '../support/engine-on-bed.js';
import { runPeerPython } from '../support/peer-namespace.js';
import { readResult } from '../support/result-file.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const transferApp = path.join(here, 'apps/transfer.js');
const MB = 1024 * 1024;
const MTU = 9000;

interface Outcome {
  sentSha: string;
  sentBytes: number;
  recvSha: string;
  recvBytes: number;
  eofBeforeReply?: boolean;
  family?: string;
  peer?: string;
  /** Kernel side: TCP_MAXSEG and tcpi_snd_mss / tcpi_rcv_mss once the transfer ended. */
  maxseg?: number;
  error: string | null;
}

// Kernel client: sends argv[3] bytes (a thread writes while the main thread reads), shuts down
// writing, reads the reply to EOF; hashes both directions and reports its MSS (TCP_MAXSEG: the
// MSS in use, bounded by what the engine advertised, less the timestamp option).
const PY_CLIENT = `
import hashlib, json, random, socket, sys, threading
host, port, up = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port), timeout=90)
sent = hashlib.sha256(); rnd = random.Random()
def send():
    left = up
    while left:
        b = rnd.randbytes(min(left, 1 << 20)); sent.update(b); s.sendall(b); left -= len(b)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send); t.start()
recv = hashlib.sha256(); got = 0
while True:
    b = s.recv(1 << 16)
    if not b: break
    recv.update(b); got += len(b)
t.join()
maxseg = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
s.close()
print(json.dumps({"sentSha": sent.hexdigest(), "sentBytes": up, "recvSha": recv.hexdigest(),
                  "recvBytes": got, "maxseg": maxseg, "error": None}))
`;

// Kernel server (dual-stack): one connection; reads to EOF, answers argv[2] bytes, closes.
const PY_SERVER = `
import hashlib, json, random, socket, sys
port, down = int(sys.argv[1]), int(sys.argv[2])
l = socket.socket(socket.AF_INET6)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
l.bind(("::", port)); l.listen(8); l.settimeout(120)
print("ready", flush=True)
rnd = random.Random()
c, addr = l.accept(); c.settimeout(90)
recv = hashlib.sha256(); got = 0
while True:
    b = c.recv(1 << 16)
    if not b: break
    recv.update(b); got += len(b)
sent = hashlib.sha256(); left = down
while left:
    b = rnd.randbytes(min(left, 1 << 20)); sent.update(b); c.sendall(b); left -= len(b)
maxseg = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
c.shutdown(socket.SHUT_WR); c.close()
print(json.dumps({"sentSha": sent.hexdigest(), "sentBytes": down, "recvSha": recv.hexdigest(),
                  "recvBytes": got, "peer": addr[0], "maxseg": maxseg, "error": None}), flush=True)
`;

/** TCP timestamps (RFC 7323) take 12 bytes of every segment's option space; Linux uses them. */
const TS_OPTION_BYTES = 12;

describe('tcp-kernel: jumbo frames (MTU 9000, AF_XDP multi-buffer) with the kernel as peer', function () {
  let bed: TestBed | undefined;
  let engine: Engine | undefined;
  let dir: string;
  let result: string;
  const children: ChildProcess[] = [];

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), 'xdpnet-jumbo-'));
    result = path.join(dir, 'result');
    for (const k of Object.keys(process.env)) if (k.startsWith('XDPNET_B1_')) delete process.env[k];
  });

  afterEach(async function () {
    const stopping = { engine, bed, children: children.splice(0), dir };
    engine = undefined;
    bed = undefined;
    await stopEngineAndBed(stopping);
  });

  async function upAtMtu(): Promise<TestBed> {
    bed = await TestBed.up({ mtu: MTU });
    assert.equal(bed.mtu, MTU);
    return bed;
  }

  async function startEngine(b: TestBed, env: Record<string, string>): Promise<Engine> {
    Object.assign(process.env, { ...env, XDPNET_B1_RESULT: result });
    engine = await startEngineOnBed(b, transferApp, { mtu: MTU });
    assert.equal(engine.xdp.multiBuffer, true, 'MTU 9000 needs multi-buffer frames');
    return engine;
  }

  /** Interface and device counters of the engine's only worker. */
  async function ifaceStats(): Promise<Record<string, number>> {
    assert.ok(engine);
    const [w] = await engine.stats();
    return w.iface;
  }

  /** Both sides' digests agree in both directions and every byte arrived. */
  function checkExchange(client: Outcome, server: Outcome, up: number, down: number): void {
    const brief = JSON.stringify({ client, server });
    assert.equal(client.error, null, brief);
    assert.equal(server.error, null, brief);
    assert.equal(server.recvBytes, up, brief);
    assert.equal(server.recvSha, client.sentSha, brief);
    assert.equal(client.recvBytes, down, brief);
    assert.equal(client.recvSha, server.sentSha, brief);
  }

  it('moves 100 MB each way over IPv4 (kernel client, engine server) at MSS 8960', async function () {
    this.timeout(240_000);
    const b = await upAtMtu();
    await startEngine(b, {
      XDPNET_B1_MODE: 'server',
      XDPNET_B1_PORT: '7100',
      XDPNET_B1_UP: '0',
      XDPNET_B1_DOWN: String(100 * MB),
    });
    await readResult(`${result}-listening`, 10_000).catch(() => undefined);
    const client = JSON.parse(
      await runPeerPython(b, PY_CLIENT, [b.engineIpv4, '7100', String(100 * MB)], 200_000),
    ) as Outcome;
    const server = await readResult<Outcome>(`${result}-0.json`, 10_000);
    checkExchange(client, server, 100 * MB, 100 * MB);
    // The engine advertised MTU - 40 = 8960 (RFC 9293 3.7.1); the kernel's segments carry that
    // less the timestamp option.
    assert.equal(client.maxseg, MTU - 40 - TS_OPTION_BYTES, JSON.stringify(client));
    const iface = await ifaceStats();
    // 100 MB in segments of 8948 bytes is about 11,700 chains; ACKs are single frames.
    assert.ok(iface.rxChains > 10_000, JSON.stringify(iface));
  });

  it('moves 100 MB each way over IPv6 (engine client, kernel server) at MSS 8940', async function () {
    this.timeout(240_000);
    const b = await upAtMtu();
    const srv = b.spawn(['python3', '-u', '-c', PY_SERVER, '9100', String(100 * MB)]);
    children.push(srv);
    let out = '';
    let err = '';
    srv.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    srv.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const ready = Date.now() + 15_000;
    while (!out.startsWith('ready\n') && srv.exitCode === null && Date.now() < ready) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(out.startsWith('ready\n'), `python server did not start: ${err}`);
    await startEngine(b, {
      XDPNET_B1_MODE: 'client',
      XDPNET_B1_TARGETS: `[${b.peerIpv6}]:9100`,
      XDPNET_B1_UP: String(100 * MB),
      XDPNET_B1_DOWN: '0',
    });
    const client = await readResult<Outcome>(`${result}-0.json`, 200_000);
    const done = Date.now() + 10_000;
    while (out.split('\n').length < 3 && Date.now() < done) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const server = JSON.parse(out.split('\n')[1]) as Outcome;
    checkExchange(client, server, 100 * MB, 100 * MB);
    assert.equal(client.family, 'IPv6');
    assert.equal(server.maxseg, MTU - 60 - TS_OPTION_BYTES, JSON.stringify(server));
    const iface = await ifaceStats();
    assert.ok(iface.rxChains > 10_000, JSON.stringify(iface));
  });
});
