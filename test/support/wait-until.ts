import assert from 'node:assert/strict';

/**
 * Polls `check` every 20 ms until it holds; fails after `ms` naming `what`, with `detail()`
 * (the state that explains the wait) when given.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  detail?: () => Promise<string>,
  ms = 5000,
): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) {
      assert.fail(`timed out waiting for ${what}${detail ? `: ${await detail()}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
