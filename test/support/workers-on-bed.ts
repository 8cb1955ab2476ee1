// Workers on a binding of the test bed's engine-side interface (no engine around them), and
// their teardown: the workers close first, then the binding, then the bed, whatever failed.
import type { TestBed } from '../../ts/testbed/testbed.js';

/** What a binding needs of the bed: its interface and the engine's addresses. */
export function bindingAddresses(bed: TestBed): { ifname: string; ipv4: string[]; ipv6: string[] } {
  return { ifname: bed.engineIf, ipv4: [bed.engineIpv4], ipv6: [bed.engineIpv6] };
}

export async function closeWorkersAndBed(
  workers: { close(): Promise<unknown> } | undefined,
  binding: { close(): void } | undefined,
  bed: TestBed | undefined,
): Promise<void> {
  try {
    await workers?.close();
  } finally {
    binding?.close();
    await bed?.down();
  }
}
