// A fetch client on xdpnet: fetches FETCH_URL through the engine (TCP, and TLS for https:, on the
// engine's stacks; HTTP is undici's, as Node's own fetch) and prints the status and the body's
// length. FETCH_CA names a PEM file of CA certificates for https: servers of your own. The module
// runs in every engine worker: use --workers 1 for one fetch. Hosts are IP literals (no DNS).
//   npx xdpnet testbed up                  # prints the bed: netns, engineIf, addresses
//   ip netns exec <netns> python3 -m http.server --bind :: 8080 &
//   FETCH_URL=http://<peerIpv4>:8080/ npx xdpnet run dist/examples/fetch-client.js \
//     --iface <engineIf> --ip <engineIpv4>/24 --ip6 <engineIpv6>/64 --workers 1 --seconds 5
// Applications outside this package import from 'xdpnet' instead of '../ts/index.js'.
import { readFileSync } from 'node:fs';
import { undici } from '../ts/index.js';

type CodedError = Error & { code?: string };

const url = process.env.FETCH_URL;
const caFile = process.env.FETCH_CA;

async function fetchOnce(target: string): Promise<void> {
  // One dispatcher for this client: its connections (kept alive) go through the engine.
  const dispatcher = new undici.Agent({
    connect: caFile === undefined ? {} : { ca: readFileSync(caFile) },
  });
  try {
    const started = performance.now();
    const res = await undici.fetch(target, { dispatcher });
    const body = await res.arrayBuffer();
    const ms = (performance.now() - started).toFixed(1);
    process.stdout.write(
      `fetch-client: ${target} ${res.status} ${body.byteLength} bytes ${ms} ms\n`,
    );
  } finally {
    await dispatcher.close();
  }
}

if (url === undefined) {
  process.stderr.write('fetch-client: set FETCH_URL (an http: or https: URL with an IP host)\n');
} else {
  fetchOnce(url).catch((err: CodedError & { cause?: CodedError }) => {
    const cause = err.cause ?? err; // fetch reports a connection failure as its cause
    process.stderr.write(`fetch-client: ${url} failed: ${cause.code ?? ''} ${cause.message}\n`);
  });
}
