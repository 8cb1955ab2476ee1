// A small JSON Schema (draft-07) validator for the keywords perf/result.schema.json uses. A
// keyword it does not know is an error, not a pass: a schema that grows past it fails loudly
// instead of checking less than it says.

export type Schema = { [keyword: string]: unknown };

/** Keywords that describe and do not constrain. */
const ANNOTATIONS = new Set(['$schema', 'title', 'description', 'definitions', 'examples']);

/** Every place `value` breaks `schema`, as "path: what" lines; empty when it conforms. */
export function validate(schema: Schema, value: unknown): string[] {
  const problems: string[] = [];
  check(schema, schema, value, '$', problems);
  return problems;
}

function check(root: Schema, schema: Schema, value: unknown, at: string, out: string[]): void {
  for (const [keyword, arg] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword)) continue;
    const rule = rules[keyword];
    if (!rule) throw new Error(`${at}: unsupported schema keyword '${keyword}'`);
    rule({ root, schema, arg, value, at, out });
  }
}

interface RuleInput {
  root: Schema;
  schema: Schema;
  arg: unknown;
  value: unknown;
  at: string;
  out: string[];
}

const rules: Record<string, (r: RuleInput) => void> = {
  $ref: ({ root, arg, value, at, out }) =>
    check(root, resolve(root, arg as string), value, at, out),
  type: ({ arg, value, at, out }) => {
    const types = Array.isArray(arg) ? (arg as string[]) : [arg as string];
    if (!types.some((t) => isType(value, t))) out.push(`${at}: ${show(value)} is not ${types}`);
  },
  enum: ({ arg, value, at, out }) => {
    if (!(arg as unknown[]).includes(value)) out.push(`${at}: ${show(value)} is not one of ${arg}`);
  },
  minimum: ({ arg, value, at, out }) => {
    if (typeof value === 'number' && value < (arg as number)) {
      out.push(`${at}: ${value} < ${arg}`);
    }
  },
  required: ({ arg, value, at, out }) => {
    if (!isObject(value)) return;
    for (const key of arg as string[]) if (!(key in value)) out.push(`${at}: no '${key}'`);
  },
  properties: ({ root, arg, value, at, out }) => {
    if (!isObject(value)) return;
    for (const [key, sub] of Object.entries(arg as Record<string, Schema>)) {
      if (key in value) check(root, sub, value[key], `${at}.${key}`, out);
    }
  },
  additionalProperties: ({ root, schema, arg, value, at, out }) => {
    if (!isObject(value)) return;
    const known = Object.keys((schema.properties ?? {}) as object);
    for (const key of Object.keys(value).filter((k) => !known.includes(k))) {
      if (arg === false) out.push(`${at}: unexpected '${key}'`);
      else check(root, arg as Schema, value[key], `${at}.${key}`, out);
    }
  },
  oneOf: ({ root, arg, value, at, out }) => {
    const results = (arg as Schema[]).map((sub) => {
      const problems: string[] = [];
      check(root, sub, value, at, problems);
      return problems;
    });
    const passing = results.filter((r) => r.length === 0).length;
    if (passing !== 1) {
      out.push(`${at}: matches ${passing} of oneOf's schemas (${results.flat().join('; ')})`);
    }
  },
};

function resolve(root: Schema, ref: string): Schema {
  const m = /^#\/definitions\/([^/]+)$/.exec(ref);
  const definitions = (root.definitions ?? {}) as Record<string, Schema>;
  if (!m || !(m[1] in definitions)) throw new Error(`cannot resolve $ref '${ref}'`);
  return definitions[m[1]];
}

function isType(value: unknown, type: string): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    default:
      return typeof value === type;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}
