// Test app for the timer columns of `xdpnet ss`: connects to XDPNET_TEST_CLOSE_TARGET, sends a
// line and closes first (so this side ends in TIME-WAIT); once XDPNET_TEST_TRIGGER exists,
// connects to XDPNET_TEST_SYN_TARGET (which the test blackholes: SYN-SENT retransmits).
import { existsSync } from 'node:fs';
import { net } from '../../../ts/index.js';

function endpoint(v: string | undefined): { host: string; port: number } | null {
  const m = /^([^:]+):(\d+)$/.exec(v ?? '');
  return m ? { host: m[1], port: Number(m[2]) } : null;
}

const closeTarget = endpoint(process.env.XDPNET_TEST_CLOSE_TARGET);
const synTarget = endpoint(process.env.XDPNET_TEST_SYN_TARGET);
const trigger = process.env.XDPNET_TEST_TRIGGER ?? '';

if (closeTarget) {
  const s = net.connect(closeTarget, () => s.end('bye\n'));
  s.on('data', () => undefined);
  s.on('error', () => s.destroy());
}
if (synTarget && trigger) {
  const poll = setInterval(() => {
    if (!existsSync(trigger)) return;
    clearInterval(poll);
    const s = net.connect(synTarget);
    s.on('error', () => s.destroy());
  }, 50);
}
