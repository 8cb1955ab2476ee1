// Where the metrics endpoint listens: `--metrics HOST:PORT` on the command line, `metrics` in
// Engine.start's options. Only that address is bound (no wildcard default): the counters show
// what the engine serves, which is not for every network to read.
import net from 'node:net';

export interface MetricsAddress {
  /** An IP address or a host name that resolves to one of this machine's addresses. */
  host: string;
  /** 0 picks a free port (Engine.metricsUrl then says which). */
  port: number;
}

/** 'HOST:PORT' ('[IPv6]:PORT' for IPv6), or the parts (host defaults to 127.0.0.1). */
export type MetricsOption = string | { host?: string; port: number };

const EXAMPLE = "e.g. '127.0.0.1:9464' or '[::1]:9464'";

/** Letters, digits and hyphens in dot-separated labels (RFC 1123 2.1). */
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function invalid(message: string): Error {
  return Object.assign(new Error(message), { code: 'EINVAL' });
}

function checkPort(port: unknown, spec: string): number {
  const n = typeof port === 'string' && /^\d+$/.test(port) ? Number(port) : port;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw invalid(`metrics port ${JSON.stringify(port)} of ${spec} is not an integer in 0-65535`);
  }
  return n;
}

function checkHost(host: unknown, spec: string): string {
  if (typeof host !== 'string' || (net.isIP(host) === 0 && !HOST_NAME.test(host))) {
    throw invalid(
      `metrics host ${JSON.stringify(host)} of ${spec} is not an IP address or host name`,
    );
  }
  return host;
}

/** Splits 'HOST:PORT' and '[IPv6]:PORT'; a bare IPv6 address needs its brackets. */
function splitHostPort(spec: string): [string, string] {
  const bracketed = /^\[([^\]]+)\]:([^:]*)$/.exec(spec);
  if (bracketed) {
    if (net.isIPv6(bracketed[1])) return [bracketed[1], bracketed[2]];
    throw invalid(`metrics address '${spec}': only an IPv6 address goes in brackets`);
  }
  const colon = spec.lastIndexOf(':');
  if (colon <= 0) throw invalid(`metrics address '${spec}' is not HOST:PORT (${EXAMPLE})`);
  const host = spec.slice(0, colon);
  if (host.includes(':')) {
    throw invalid(`metrics address '${spec}': put an IPv6 address in brackets (${EXAMPLE})`);
  }
  return [host, spec.slice(colon + 1)];
}

/** The address to listen on, checked; an EINVAL error that says what is wrong otherwise. */
export function parseMetricsAddress(option: MetricsOption): MetricsAddress {
  if (typeof option === 'string') {
    const [host, port] = splitHostPort(option);
    return { host: checkHost(host, `'${option}'`), port: checkPort(port, `'${option}'`) };
  }
  if (option === null || typeof option !== 'object') {
    throw invalid(`metrics must be 'HOST:PORT' or { host, port } (${EXAMPLE})`);
  }
  const spec = JSON.stringify(option);
  return { host: checkHost(option.host ?? '127.0.0.1', spec), port: checkPort(option.port, spec) };
}

/** 'HOST:PORT', with brackets around an IPv6 host. */
export function formatHostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
