// The timer column of `xdpnet ss` against a kernel peer: the engine closes first and holds
// TIME-WAIT with the time left; a SYN to a blackholed peer shows the retransmission timer and
// its count, like `ss -tanpo`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import { Engine } from '../../ts/runtime/engine.js';
import type { SocketEntry } from '../../ts/runtime/socket-report.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const app = path.join(here, 'apps/closer.js');
const cli = path.join(here, '../../../bin/xdpnet.js');

// Kernel server: accepts one connection, reads to EOF, then closes (after the engine's FIN).
const PY_SERVER = `
import socket, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], 9000)); l.listen(4); l.settimeout(60)
print("ready", flush=True)
c, _ = l.accept(); c.settimeout(30)
while c.recv(4096): pass
c.close()
print("done", flush=True)
`;

function xdpnet(
  args: string[],
  runDir: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { env: { ...process.env, XDPNET_RUN_DIR: runDir }, timeout: 30000 },
      (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
    );
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('introspection: ss timers (TIME-WAIT, retransmission)', function () {
  let bed: TestBed;
  let engine: Engine | undefined;
  let runDir: string;
  const savedRunDir = process.env.XDPNET_RUN_DIR;

  before(async function () {
    runDir = mkdtempSync(path.join(tmpdir(), 'h18-run-'));
    process.env.XDPNET_RUN_DIR = runDir;
    bed = await TestBed.up();
  });

  after(async function () {
    try {
      await engine?.stop();
    } finally {
      engine = undefined;
      await bed?.down();
      rmSync(runDir, { recursive: true, force: true });
      if (savedRunDir === undefined) delete process.env.XDPNET_RUN_DIR;
      else process.env.XDPNET_RUN_DIR = savedRunDir;
    }
  });

  async function waitForSocket(pred: (s: SocketEntry) => boolean): Promise<SocketEntry> {
    const end = Date.now() + 20000;
    for (;;) {
      const hit = (await engine!.sockets()).find(pred);
      if (hit) return hit;
      assert.ok(Date.now() < end, 'socket never showed up');
      await sleep(100);
    }
  }

  it('shows TIME-WAIT with the time left, then a SYN-SENT retransmission timer', async function () {
    const server = bed.exec(['python3', '-u', '-c', PY_SERVER, bed.peerIpv4], { timeoutMs: 60000 });
    await sleep(500); // the server binds
    const trigger = path.join(runDir, 'trigger');
    Object.assign(process.env, {
      XDPNET_TEST_CLOSE_TARGET: `${bed.peerIpv4}:9000`,
      XDPNET_TEST_SYN_TARGET: `${bed.peerIpv4}:9001`,
      XDPNET_TEST_TRIGGER: trigger,
    });
    engine = await Engine.start({
      ifname: bed.engineIf,
      ipv4: [`${bed.engineIpv4}/${bed.ipv4Prefix}`],
      app,
      workers: 1,
    });
    const s = await server;
    assert.equal(s.code, 0, s.stderr);
    const tw = await waitForSocket((x) => x.state === 'TIME-WAIT');
    assert.equal(tw.peerPort, 9000);
    assert.equal(tw.timer?.kind, 'timewait');
    assert.ok(tw.timer.ms > 50_000 && tw.timer.ms <= 60_000, `time left ${tw.timer.ms}`);

    const r = await xdpnet(['ss', '--state', 'time-wait'], runDir);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2, r.stdout);
    assert.match(
      lines[1],
      new RegExp(
        `^tcp\\s+TIME-WAIT\\s+0\\s+0\\s+${bed.engineIpv4}:\\d+\\s+${bed.peerIpv4}:9000\\s+` +
          'worker:0 timer:\\(timewait,\\d+\\.\\ds,0\\)$',
      ),
    );

    // Blackhole the peer's answers (its RST to port 9001): the SYN is retransmitted.
    await bed.setNetem({ lossPct: 100 });
    writeFileSync(trigger, '');
    const syn = await waitForSocket(
      (x) => x.state === 'SYN-SENT' && (x.timer?.retransmits ?? 0) >= 1,
    );
    assert.equal(syn.timer?.kind, 'on');
    assert.equal(syn.peerPort, 9001);
    const j = await xdpnet(['ss', '--state', 'syn-sent', '--json'], runDir);
    const [shown] = JSON.parse(j.stdout) as SocketEntry[];
    assert.equal(shown.timer?.kind, 'on');
    assert.ok(shown.timer.retransmits >= 1);
    const text = await xdpnet(['ss', '--port', '9001'], runDir);
    assert.match(text.stdout, /SYN-SENT .* timer:\(on,[\d.]+m?s,\d+\)\n$/);
    const ns = JSON.parse((await xdpnet(['netstat', '-s', '--json'], runDir)).stdout) as {
      total: { Tcp: Record<string, number> };
    };
    assert.equal(ns.total.Tcp.ActiveOpens, 2);
    await bed.clearNetem();
  });
});
