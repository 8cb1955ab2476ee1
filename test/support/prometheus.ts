// Reading a metrics endpoint as Prometheus would: GET the text, parse it with a Prometheus text
// parser (parse-prometheus-text-format), look samples up by name and labels.
import assert from 'node:assert/strict';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

export type Scrape = Map<string, ParsedFamily>;

/** Families by name, from Prometheus text. */
export function parseScrape(text: string): Scrape {
  return new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
}

/** GETs `url` (bounded wait) and parses the answer; asserts a 200 with Prometheus's content type. */
export async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseScrape(text);
}

/** The value of the sample of `name` whose labels include `labels`; asserts there is exactly one. */
export function sample(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  const family = s.get(name);
  assert.ok(family, `no metric ${name}`);
  const hits = family.metrics.filter((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );
  assert.equal(hits.length, 1, `${name}${JSON.stringify(labels)}: ${hits.length} samples`);
  return Number(hits[0].value);
}

/** Every sample of `name` whose labels include `labels`. */
export function samples(
  s: Scrape,
  name: string,
  labels: Record<string, string> = {},
): { labels: Record<string, string>; value: number }[] {
  const family = s.get(name);
  assert.ok(family, `no metric ${name}`);
  return family.metrics
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    .map((m) => ({ labels: m.labels ?? {}, value: Number(m.value) }));
}
