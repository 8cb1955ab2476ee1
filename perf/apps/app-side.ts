// Which side of a perf comparison an app module runs on, and where it listens. The perf modes
// http, https and express run one app file on both sides: loaded into every engine worker, it
// takes `http`/`https` from xdpnet; loaded by perf/baselines/app-server.ts (which sets
// XDPNET_PERF_SIDE=kernel and the address) it takes them from Node. Nothing else differs.

/** True in the baseline process on the kernel stack. */
export function onKernel(): boolean {
  return process.env.XDPNET_PERF_SIDE === 'kernel';
}

/** The port both sides listen on (the perf mode sets it; 8080 by default). */
export function appPort(): number {
  return Number(process.env.XDPNET_PERF_PORT ?? 8080);
}

/** The kernel side listens on the bed's baseline address; the engine on all of its own. */
export function appHost(): string {
  return onKernel() ? (process.env.XDPNET_PERF_HOST ?? '127.0.0.1') : '::';
}

/** The response body of every app: the same bytes on both sides. */
export const APP_BODY = Buffer.from('Hello from xdpnet\n');
