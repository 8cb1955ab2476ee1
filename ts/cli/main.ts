// The `xdpnet` command line: `xdpnet <command> [args]`. Each command is a module under
// ts/cli/commands/ exporting `run(args: string[]): Promise<number>` (the exit code).
import { parseArgs } from './args.js';

const commands: Record<string, string> = {
  demo: 'run the demo on the built-in test bed',
  run: 'run <app-module>: start the engine and load the app in every worker',
  testbed: 'testbed up|down: create or remove a veth + namespace test bed (prints JSON)',
  ss: 'ss [-t|-u] [--state S] [--port N]: the sockets of a running engine',
  netstat: 'netstat -s [--per-worker]: the protocol counters of a running engine',
  perf: 'perf <mode>: the perf harness (rxdrop, txonly, l2fwd, rss-rxdrop, steered-rxdrop, udp-echo, tcp-rr, tcp-crr, tcp-stream, epoll-echo, http, https, express, mem-tcp-stream, mem-tcp-rr)',
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, what]) => `  ${name.padEnd(10)} ${what}`);
  return `usage: xdpnet <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  if (!(name in commands)) {
    process.stderr.write(`xdpnet: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const mod = (await import(`./commands/${name}.js`)) as {
    run(args: ReturnType<typeof parseArgs>): Promise<number>;
  };
  return mod.run(parseArgs(rest));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as { code?: string; message?: string };
    process.stderr.write(`xdpnet: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
