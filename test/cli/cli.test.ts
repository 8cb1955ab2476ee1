// The xdpnet command line as a user meets it: `node bin/xdpnet.js ...` in a child process. Nothing
// here may do real work (no bed, no engine). Where the suite runs as root, the commands run as
// nobody (if nobody can read the checkout), so a command that started work instead of refusing
// its command line or printing its help fails with EPERM rather than making a bed.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { perfModes } from '../../perf/run-perf.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '../../..');
const cli = path.join(root, 'bin/xdpnet.js');
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
/** Whether commands run as nobody: root only, once nobody is seen to run the CLI at all. */
let asNobody = false;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

interface RunAs {
  /** Run as nobody (default: where the probe in `before` found that possible). */
  unprivileged?: boolean;
  env?: NodeJS.ProcessEnv;
}

function run(file: string, args: string[], options: RunAs): Promise<CliResult> {
  const started = performance.now();
  const drop = options.unprivileged ?? asNobody;
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        env: { ...process.env, ...options.env },
        timeout: 30_000,
        ...(drop ? { uid: NOBODY, gid: NOBODY } : {}),
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr, ms: performance.now() - started });
      },
    );
  });
}

function xdpnet(args: string[], options: RunAs = {}): Promise<CliResult> {
  return run(process.execPath, [cli, ...args], options);
}

/** A usage error: exit 2, nothing on stdout, the message and the way to help on stderr. */
async function refused(args: string[], message: RegExp): Promise<void> {
  const r = await xdpnet(args);
  assert.equal(r.code, 2, `xdpnet ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, message);
  assert.match(r.stderr, /Run 'xdpnet[a-z -]*--help' for usage\./);
}

const PERF_FLAGS_OF_BED_OR_NIC = [
  '--seconds',
  '--size',
  '--rate',
  '--xdp-mode',
  '--bind-mode',
  '--busy-poll',
];
const NIC_FLAGS = ['--iface', '--queue', '--src-ip'];
const TCP_MODE_FLAGS = ['--seconds', '--xdp-mode', '--bind-mode', '--busy-poll', '--rss'];

/** The flags each perf mode took before the parser, where they did anything. */
const MODE_FLAGS: Record<string, string[]> = {
  rxdrop: [...PERF_FLAGS_OF_BED_OR_NIC, ...NIC_FLAGS],
  txonly: [...PERF_FLAGS_OF_BED_OR_NIC, ...NIC_FLAGS, '--dst-mac', '--dst-ip'],
  l2fwd: [...PERF_FLAGS_OF_BED_OR_NIC, ...NIC_FLAGS],
  'rss-rxdrop': [...PERF_FLAGS_OF_BED_OR_NIC, '--batch'],
  'steered-rxdrop': [...PERF_FLAGS_OF_BED_OR_NIC, '--batch'],
  'udp-echo': [...PERF_FLAGS_OF_BED_OR_NIC, '--rss'],
  'tcp-rr': TCP_MODE_FLAGS,
  'tcp-crr': TCP_MODE_FLAGS,
  'tcp-stream': TCP_MODE_FLAGS,
  'epoll-echo': TCP_MODE_FLAGS,
  http: TCP_MODE_FLAGS,
  https: TCP_MODE_FLAGS,
  express: TCP_MODE_FLAGS,
  'mem-tcp-stream': ['--bytes'],
  'mem-tcp-rr': ['--seconds'],
};

const ALL_PERF_FLAGS = [...new Set(Object.values(MODE_FLAGS).flat())];
const TESTBED_UP_FLAGS = [
  '--queues',
  '--mtu',
  '--static-neighbours',
  '--loss',
  '--delay',
  '--jitter',
  '--reorder',
  '--duplicate',
  '--rate',
  '--limit',
];

/** Every command, subcommand and perf mode, with every flag its help must list. */
const HELP_CASES: [string[], string[]][] = [
  [['demo'], ['--seconds']],
  [
    ['run'],
    [
      '--iface',
      '--ip',
      '--ip6',
      '--gateway',
      '--gateway6',
      '--workers',
      '--software-rss',
      '--max-workers',
      '--seconds',
      '--busy-poll',
      '--rss',
    ],
  ],
  [['perf'], ALL_PERF_FLAGS],
  ...Object.entries(MODE_FLAGS).map(([mode, flags]): [string[], string[]] => [
    ['perf', mode],
    flags,
  ]),
  [['testbed'], [...TESTBED_UP_FLAGS, '--force']],
  [['testbed', 'up'], TESTBED_UP_FLAGS],
  [['testbed', 'down'], ['--force']],
  [['testbed', 'list'], []],
  [['nic'], ['--json', '--workers']],
  [['ss'], ['--pid', '--socket', '-t, --tcp', '-u, --udp', '--state', '--port', '--json']],
  [['netstat'], ['-s, --statistics', '--pid', '--socket', '--per-worker', '--json']],
  [['workers'], ['--pid', '--socket', '--json']],
];

describe('xdpnet CLI', function () {
  before(async function () {
    if (!isRoot) return;
    asNobody = (await xdpnet(['--version'], { unprivileged: true })).code === 0;
  });

  it('--version and -V print the version in package.json', async function () {
    const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V']) {
      const r = await xdpnet([flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${version}\n`);
    }
  });

  it('top-level help lists every command and every perf mode of the mode table', async function () {
    const r = await xdpnet(['--help']);
    assert.equal(r.code, 0, r.stderr);
    const commands = [
      'demo',
      'run <app-module>',
      'perf <mode>',
      'testbed up',
      'testbed down [name]',
      'testbed list',
      'nic <iface>',
      'ss',
      'netstat -s',
      'workers [N]',
    ];
    for (const command of commands) {
      assert.ok(
        r.stdout.split('\n').some((line) => line.startsWith(`  ${command}  `)),
        command,
      );
    }
    for (const mode of Object.keys(perfModes)) {
      assert.match(r.stdout, new RegExp(`^  ${mode}  `, 'm'), `perf mode ${mode} not listed`);
    }
    assert.match(r.stdout, /-V, --version/);
    assert.deepEqual((await xdpnet(['-h'])).stdout, r.stdout);
    assert.deepEqual((await xdpnet(['help'])).stdout, r.stdout);
    const bare = await xdpnet([]);
    assert.equal(bare.code, 2);
    assert.equal(bare.stderr, r.stdout);
  });

  it('--help on every command, subcommand and perf mode lists its flags and exits 0 at once', async function () {
    for (const [command, flags] of HELP_CASES) {
      const r = await xdpnet([...command, '--help']);
      const name = `xdpnet ${command.join(' ')} --help`;
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stderr, '', name);
      assert.ok(r.stdout.startsWith(`usage: xdpnet ${command.join(' ')} `), `${name}: ${r.stdout}`);
      for (const flag of [...flags, '-h, --help']) {
        assert.match(r.stdout, new RegExp(`^ +${flag}\\b`, 'm'), `${name} does not list ${flag}`);
      }
      // Help loads no engine, bed or perf mode: about as long as Node takes to start.
      assert.ok(r.ms < 10_000, `${name} took ${Math.round(r.ms)} ms`);
    }
    const short = await xdpnet(['perf', 'rxdrop', '-h']);
    assert.equal(short.code, 0);
    assert.equal(short.stdout, (await xdpnet(['perf', 'rxdrop', '--help'])).stdout);
    assert.equal(
      (await xdpnet(['help', 'testbed', 'up'])).stdout,
      (await xdpnet(['testbed', 'up', '-h'])).stdout,
    );
  });

  it('a perf mode lists only the flags it takes', async function () {
    const tcpRr = (await xdpnet(['perf', 'tcp-rr', '--help'])).stdout;
    for (const flag of ['--iface', '--size', '--rate', '--bytes']) {
      assert.doesNotMatch(tcpRr, new RegExp(`${flag}\\b`));
    }
    // Only the modes that run the whole engine own flows by RSS.
    const rxdrop = (await xdpnet(['perf', 'rxdrop', '--help'])).stdout;
    assert.doesNotMatch(rxdrop, /--rss\b/);
  });

  it('unknown flags fail with exit 2 and the nearest known one', async function () {
    await refused(
      ['perf', 'rxdrop', '--secnds', '1'],
      /unknown flag '--secnds'; did you mean --seconds\?/,
    );
    await refused(['ss', '--jsno'], /unknown flag '--jsno'; did you mean --json\?/);
    await refused(['--verison'], /unknown flag '--verison'; did you mean --version\?/);
    await refused(['testbed', 'up', '--wire'], /^xdpnet testbed up: unknown flag '--wire'$/m);
    await refused(['ss', '-x'], /unknown flag '-x'/);
  });

  it('unknown commands, subcommands and perf modes fail with exit 2 and a suggestion', async function () {
    await refused(['prf'], /^xdpnet: unknown command 'prf'; did you mean 'perf'\?$/m);
    await refused(['bogus'], /^xdpnet: unknown command 'bogus'$/m);
    await refused(
      ['perf', 'rxdrp'],
      /^xdpnet perf: unknown mode 'rxdrp'; did you mean 'rxdrop'\?$/m,
    );
    await refused(['testbed', 'dwn'], /unknown subcommand 'dwn'; did you mean 'down'\?/);
    await refused(['perf'], /missing mode: one of rxdrop, txonly/);
    await refused(['testbed'], /missing subcommand: one of up, down, list/);
  });

  it('a flag that needs a value and got none, or got another flag, fails with exit 2', async function () {
    await refused(['perf', 'rxdrop', '--seconds'], /--seconds needs a value$/m);
    await refused(
      ['perf', 'rxdrop', '--seconds', '--size', '18'],
      /--seconds needs a value, but the next argument is '--size'/,
    );
    await refused(['testbed', 'up', '--mtu'], /--mtu needs a value/);
    await refused(['ss', '--json=yes'], /--json takes no value/);
  });

  it('flags a command does not take, and stray or missing operands, fail with exit 2', async function () {
    await refused(
      ['perf', 'tcp-rr', '--iface', 'eth0'],
      /--iface is not a flag of this command; it takes --seconds, --xdp-mode, --bind-mode/,
    );
    await refused(['testbed', 'list', '--force'], /--force is not a flag of this command/);
    await refused(['demo', 'extra'], /unexpected argument 'extra'/);
    await refused(['testbed', 'up', 'extra'], /unexpected argument 'extra'/);
    await refused(['run'], /^xdpnet run: missing <app-module>$/m);
    await refused(['nic'], /^xdpnet nic: missing <iface>$/m);
    await refused(['nic', 'lo', 'eth0'], /unexpected argument 'eth0'/);
    await refused(['netstat'], /-s is required/);
    await refused(['workers', '0'], /N must be a whole number from 1 to 255, got '0'/);
    await refused(['workers', '1', '2'], /unexpected argument '2'/);
  });

  it('values are checked, with what the flag needs', async function () {
    await refused(
      ['perf', 'rxdrop', '--seconds', '0'],
      /--seconds needs a number greater than 0, got '0'/,
    );
    await refused(
      ['perf', 'rxdrop', '--seconds', 'abc'],
      /--seconds needs a number greater than 0/,
    );
    await refused(
      ['perf', 'rxdrop', '--size', '2.5'],
      /--size needs a whole number from 1 to 65507/,
    );
    await refused(
      ['perf', 'rxdrop', '--xdp-mode', 'nativ'],
      /--xdp-mode needs one of auto, native, generic, got 'nativ' \(did you mean native\?\)/,
    );
    await refused(['testbed', 'up', '--loss', '150'], /--loss needs a number from 0 to 100/);
    await refused(
      ['testbed', 'up', '--queues', '0'],
      /--queues needs a whole number from 1 to 256/,
    );
    await refused(['run', 'app.js', '--ip', '198.18.0.1/33'], /--ip needs IPv4 addresses/);
    await refused(['run', 'app.js', '--workers', 'two'], /--workers needs a whole number/);
    await refused(
      ['run', 'app.js', '--rss', 'folow'],
      /--rss needs one of program, follow, software, got 'folow' \(did you mean follow\?\)/,
    );
    await refused(['ss', '--port', '70000'], /--port needs a whole number from 0 to 65535/);
    await refused(['ss', '--state', 'bogus'], /--state: unknown state BOGUS/);
    await refused(
      ['perf', 'txonly', '--iface', 'eth0'],
      /with --iface it also needs --dst-mac, --dst-ip, --src-ip/,
    );
  });

  describe('without privileges', function () {
    before(function () {
      if (!asNobody) this.skip(); // needs root to become nobody, and nobody to read the checkout
    });

    it('help, testbed list and nic need none', async function () {
      for (const args of [
        ['testbed', 'up', '--help'],
        ['run', '--help'],
        ['testbed', 'list'],
        ['nic', 'lo'],
      ]) {
        const r = await xdpnet(args, { unprivileged: true });
        assert.equal(r.code, 0, `xdpnet ${args.join(' ')}: ${r.stderr}`);
      }
    });

    it('testbed up, run, perf and demo name the capabilities they need', async function () {
      const bed =
        /needs root or the capabilities CAP_NET_ADMIN \(veth links.*CAP_SYS_ADMIN \(network namespaces\)/;
      const engine =
        /CAP_NET_ADMIN \([^)]*attaching the XDP program\).*(CAP_BPF|CAP_SYS_ADMIN).*CAP_NET_RAW \(AF_XDP sockets\)/;
      const cases: [string[], RegExp[]][] = [
        [
          ['testbed', 'up'],
          [/EPERM: testbed up needs root/, bed],
        ],
        [
          ['testbed', 'down'],
          [/EPERM: testbed down needs root/, bed],
        ],
        [
          ['run', 'app.js'],
          [/EPERM: run needs root/, bed, engine],
        ],
        [
          ['run', 'app.js', '--iface', 'lo'],
          [/EPERM: run needs root/, engine],
        ],
        [
          ['perf', 'rxdrop', '--seconds', '1'],
          [/EPERM: perf rxdrop needs root/, bed, engine],
        ],
        [['demo'], [/EPERM: demo needs root/, bed, engine]],
      ];
      for (const [args, messages] of cases) {
        const r = await xdpnet(args, { unprivileged: true });
        const name = `xdpnet ${args.join(' ')}`;
        assert.equal(r.code, 1, `${name}: ${r.stderr}`);
        for (const message of messages) assert.match(r.stderr, message, name);
        assert.match(r.stderr, /this process lacks CAP_/, name);
        assert.doesNotMatch(r.stderr, /EACCES|open '/, name);
      }
    });

    it('with the capabilities but no write access to the state directory, names the directory', async function () {
      let setpriv: string;
      try {
        setpriv = execFileSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).trim();
      } catch {
        this.skip();
      }
      // Root's own directory, which nobody cannot write; with nothing in it, nothing to reap.
      const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'xdpnet-cli-state-'));
      try {
        const caps = '+net_admin,+sys_admin,+net_raw,+bpf';
        const r = await run(
          setpriv!,
          [
            `--reuid=${NOBODY}`,
            `--regid=${NOBODY}`,
            '--clear-groups',
            `--inh-caps=${caps}`,
            `--ambient-caps=${caps}`,
            process.execPath,
            cli,
            'testbed',
            'up',
          ],
          { unprivileged: false, env: { XDPNET_STATE_DIR: stateDir } },
        );
        assert.equal(r.code, 1, r.stderr);
        assert.match(
          r.stderr,
          new RegExp(
            `EACCES: testbed up keeps its test beds' records in ${stateDir}, where this process cannot write`,
          ),
        );
        assert.deepEqual(fs.readdirSync(stateDir), []);
      } finally {
        fs.rmSync(stateDir, { recursive: true, force: true });
      }
    });
  });
});
