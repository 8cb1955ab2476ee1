// A prom-client Registry over a running engine. Nothing is polled: each metric's collect()
// callback reads the engine when Prometheus scrapes. One scrape asks the engine once (every
// worker answers one stats() call), however many families read the answer.
import { Counter, Gauge, Registry } from 'prom-client';
import { engineFamilies, type EngineSnapshot, type Family } from './families.js';

/** Where a scrape's numbers come from. */
export type SnapshotSource = () => Promise<EngineSnapshot>;

/**
 * Shares one snapshot between the collect() calls of one scrape: prom-client starts them all
 * in the same tick, so they find the first one's request still in flight.
 */
function sharedSnapshot(source: SnapshotSource): SnapshotSource {
  let pending: Promise<EngineSnapshot> | undefined;
  return () => {
    pending ??= source().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

function register(registry: Registry, family: Family, snapshot: SnapshotSource): void {
  const config = {
    name: family.name,
    help: family.help,
    labelNames: family.labelNames,
    registers: [registry],
  };
  if (family.type === 'counter') {
    new Counter({
      ...config,
      async collect() {
        const samples = family.samples(await snapshot());
        // A counter can only be increased: start from zero and add the engine's total.
        this.reset();
        for (const [labels, value] of samples) this.inc(labels, value);
      },
    });
  } else {
    new Gauge({
      ...config,
      async collect() {
        const samples = family.samples(await snapshot());
        this.reset();
        for (const [labels, value] of samples) this.set(labels, value);
      },
    });
  }
}

/** A registry with every family of the engine `source` reads; `first` decides which exist. */
export function engineRegistry(source: SnapshotSource, first: EngineSnapshot): Registry {
  const registry = new Registry();
  const snapshot = sharedSnapshot(source);
  for (const family of engineFamilies(first)) register(registry, family, snapshot);
  return registry;
}
