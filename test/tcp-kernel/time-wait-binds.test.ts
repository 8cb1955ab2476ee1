// TIME-WAIT ports against the Linux kernel (test bed): the engine (sys API, app
// apps/time-wait-binds.ts) and the peer namespace's kernel (Python) run the same steps as
// clients: connect from a fixed port, echo a byte, close first (TIME-WAIT on the client), bind()
// the port without SO_REUSEADDR, then connect over the TIME-WAIT at once and after 1.1 s; once
// with the engine's twReuse off and the kernel's net.ipv4.tcp_tw_reuse=0, once with both on (1).
// The two must answer alike: bind fails with EADDRINUSE, the connect over a TIME-WAIT fails with
// EADDRNOTAVAIL, unless tw_reuse is on and the TIME-WAIT is older than 1 s (timestamps are on).
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
const app = path.join(here, 'apps/time-wait-binds.js');
const KERNEL_SERVER_PORT = 9400;

// A kernel echo server: echoes what it reads, closes on EOF (so the client's FIN leads).
const PY_SERVER = String.raw`
import socket, sys, threading
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], int(sys.argv[2]))); ls.listen(16)
def serve(c):
    while True:
        d = c.recv(100)
        if not d: break
        c.sendall(d)
    c.close()
print("listening", flush=True)
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

// The kernel's client steps, as the engine app runs them (see apps/time-wait-binds.ts).
const PY_CLIENT = String.raw`
import errno, json, socket, sys, time
host, port, lport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def name(e): return errno.errorcode.get(e.errno, str(e))
def reuse_socket():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); return s
def connect_and_echo(s, byte):
    try: s.bind(("0.0.0.0", lport))
    except OSError as e: return "bind " + name(e)
    try: s.connect((host, port))
    except OSError as e: return name(e)
    s.settimeout(5); s.sendall(bytes([byte])); d = s.recv(4)
    return "OK" if d == bytes([byte]) else "echo %d" % len(d)
out = {}
first = reuse_socket(); out["first"] = connect_and_echo(first, 1); first.close()
time.sleep(0.3)
plain = socket.socket()
try: plain.bind(("0.0.0.0", lport)); out["bindPlain"] = "OK"
except OSError as e: out["bindPlain"] = name(e)
plain.close()
young = reuse_socket(); out["connectYoung"] = connect_and_echo(young, 2); young.close()
time.sleep(1.1)
old = reuse_socket(); out["connectOld"] = connect_and_echo(old, 3); old.close()
for step, wait in (("pickedFirst", 0), ("pickedYoung", 0.3), ("pickedOld", 1.1)):
    time.sleep(wait)
    s = socket.socket()
    try:
        s.connect((host, port)); s.settimeout(5); s.sendall(b"\4")
        out[step] = "OK" if s.recv(4) == b"\4" else "echo"
    except OSError as e: out[step] = name(e)
    s.close()
print(json.dumps(out), flush=True)
`;

type Steps = Record<
  | 'first'
  | 'bindPlain'
  | 'connectYoung'
  | 'connectOld'
  | 'pickedFirst'
  | 'pickedYoung'
  | 'pickedOld',
  string
>;

/** The one port a connect may pick from, on both sides (ip_local_port_range). */
const PICKED = 45300;

describe('tcp-kernel: TIME-WAIT ports, bind() and tcp_tw_reuse, beside the kernel', function () {
  this.timeout(120000);
  let bed: TestBed | undefined;
  let engine: Engine | undefined;
  const children: ChildProcess[] = [];
  let dir: string | undefined;

  afterEach(async function () {
    const stopping = engine;
    engine = undefined;
    await stopEngineAndBed({ engine: stopping, bed, children: children.splice(0), dir });
    await bed?.exec(['sysctl', '-q', '-w', 'net.ipv4.tcp_tw_reuse=2']).catch(() => undefined);
    bed = undefined;
    dir = undefined;
  });

  async function engineSteps(twReuse: boolean, localPort: number): Promise<Steps> {
    const result = path.join(dir!, `engine-${localPort}.json`);
    Object.assign(process.env, {
      XDPNET_TW_SERVER: `${bed!.peerIpv4}:${KERNEL_SERVER_PORT}`,
      XDPNET_TW_PORT: String(localPort),
      XDPNET_TW_RESULT: result,
    });
    engine = await startEngineOnBed(bed!, app, {
      tcp: { twReuse },
      ephemeralPorts: [PICKED, PICKED],
    });
    try {
      return await readResult<Steps>(result, 30000);
    } finally {
      const stopping = engine;
      engine = undefined;
      const audit = await stopping.stop();
      assert.ok(audit.ok, audit.problems.join('; '));
    }
  }

  async function kernelSteps(twReuse: boolean, localPort: number): Promise<Steps> {
    for (const setting of [
      `net.ipv4.tcp_tw_reuse=${twReuse ? 1 : 0}`,
      `net.ipv4.ip_local_port_range=${PICKED} ${PICKED}`,
    ]) {
      const r = await bed!.exec(['sysctl', '-q', '-w', setting]);
      assert.equal(r.code, 0, r.stderr);
    }
    const server = `${bed!.peerIpv4}:${KERNEL_SERVER_PORT}`;
    // The kernel's client talks to the kernel's own server (in the peer namespace), so that the
    // steps are the kernel's end to end.
    const [host, port] = server.split(':');
    return JSON.parse(
      await runPeerPython(bed!, PY_CLIENT, [host, port, String(localPort)], 30000),
    ) as Steps;
  }

  it('answer as the kernel does, with tw_reuse off and on', async function () {
    bed = await TestBed.up();
    dir = mkdtempSync(path.join(tmpdir(), 'xdpnet-tw-'));
    const server = bed.spawn([
      'python3',
      '-u',
      '-c',
      PY_SERVER,
      bed.peerIpv4,
      String(KERNEL_SERVER_PORT),
    ]);
    children.push(server);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('kernel server did not start')), 10000);
      server.stdout!.once('data', () => {
        clearTimeout(t);
        resolve();
      });
    });

    // The kernel's steps first (its TIME-WAIT on the picked port is gone from the engine's
    // side of things: the engine's client talks to the kernel server from its own address).
    const kernelOff = await kernelSteps(false, 45100);
    const engineOff = await engineSteps(false, 45101);
    const off: Steps = {
      first: 'OK',
      bindPlain: 'EADDRINUSE',
      // A bound port takes over its TIME-WAIT (it had timestamps) whatever tcp_tw_reuse says.
      connectYoung: 'OK',
      connectOld: 'OK',
      pickedFirst: 'OK',
      pickedYoung: 'EADDRNOTAVAIL',
      pickedOld: 'EADDRNOTAVAIL',
    };
    assert.deepEqual(kernelOff, off, 'the kernel, tcp_tw_reuse=0');
    assert.deepEqual(engineOff, kernelOff, 'the engine, twReuse off, as the kernel');

    const kernelOn = await kernelSteps(true, 45102);
    const engineOn = await engineSteps(true, 45103);
    // Linux lets a TIME-WAIT go once the second its TS.Recent was stamped in has passed, so a
    // connect 0.3 s later may already find it gone: pickedYoung is compared only for ours.
    const on = { ...off, pickedYoung: '-', pickedOld: 'OK' };
    assert.deepEqual({ ...kernelOn, pickedYoung: '-' }, on, 'the kernel, tcp_tw_reuse=1');
    assert.deepEqual(
      { ...engineOn, pickedYoung: '-' },
      on,
      'the engine, twReuse on, as the kernel with tcp_tw_reuse=1',
    );
    assert.equal(engineOn.pickedYoung, 'EADDRNOTAVAIL', 'ours waits the full second');
  });
});
