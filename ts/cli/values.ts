// Checks for flag values: each takes the raw string and the flag's name and returns the value
// converted, or throws a usage error that says what the flag needs and what it got.
import net from 'node:net';
import { usageError } from './usage-error.js';
import { closest } from './suggest.js';
import { parseMetricsAddress } from '../runtime/metrics/address.js';

export type ValueCheck<T> = (raw: string, flag: string) => T;

function needs(flag: string, what: string, raw: string): Error {
  return usageError(`--${flag} needs ${what}, got '${raw}'`);
}

/** A plain decimal number: no hex, no empty string (Number('') is 0), no Infinity. */
function decimal(raw: string): number | undefined {
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(raw.trim()) ? Number(raw) : undefined;
}

/** A number greater than 0 (durations that must pass, rates). */
export const positiveNumber: ValueCheck<number> = (raw, flag) => {
  const n = decimal(raw);
  if (n === undefined || !(n > 0)) throw needs(flag, 'a number greater than 0', raw);
  return n;
};

/** A number from `min` to `max`, fractions allowed (percentages, milliseconds). */
export function numberIn(min: number, max = Infinity): ValueCheck<number> {
  const what = max === Infinity ? `a number of at least ${min}` : `a number from ${min} to ${max}`;
  return (raw, flag) => {
    const n = decimal(raw);
    if (n === undefined || n < min || n > max) throw needs(flag, what, raw);
    return n;
  };
}

/** A whole number from `min` to `max` (counts, ports, sizes). */
export function integerIn(min: number, max = Number.MAX_SAFE_INTEGER): ValueCheck<number> {
  const what =
    max === Number.MAX_SAFE_INTEGER
      ? `a whole number of at least ${min}`
      : `a whole number from ${min} to ${max}`;
  return (raw, flag) => {
    const n = decimal(raw);
    if (n === undefined || !Number.isInteger(n) || n < min || n > max) {
      throw needs(flag, what, raw);
    }
    return n;
  };
}

/** One of a fixed set of words, with the nearest suggested for a typo. */
export function oneOf<T extends string>(...choices: T[]): ValueCheck<T> {
  return (raw, flag) => {
    if ((choices as string[]).includes(raw)) return raw as T;
    const near = closest(raw, choices);
    const hint = near ? ` (did you mean ${near}?)` : '';
    throw usageError(`--${flag} needs one of ${choices.join(', ')}, got '${raw}'${hint}`);
  };
}

export const ipv4Address: ValueCheck<string> = (raw, flag) => {
  if (!net.isIPv4(raw)) throw needs(flag, 'an IPv4 address', raw);
  return raw;
};

export const ipv6Address: ValueCheck<string> = (raw, flag) => {
  if (!net.isIPv6(raw)) throw needs(flag, 'an IPv6 address', raw);
  return raw;
};

export const macAddress: ValueCheck<string> = (raw, flag) => {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(raw)) {
    throw needs(flag, 'a MAC address like 02:00:00:00:00:01', raw);
  }
  return raw;
};

/** Comma-separated addresses of one family, each with an optional /prefix: `198.18.0.1/24`. */
export function addressList(family: 4 | 6): ValueCheck<string[]> {
  const maxPrefix = family === 4 ? 32 : 128;
  const what = `IPv${family} addresses with an optional /prefix (0-${maxPrefix}), commas between`;
  return (raw, flag) => {
    const list = raw.split(',').filter(Boolean);
    const valid = (cidr: string): boolean => {
      const [address, prefix, ...rest] = cidr.split('/');
      const prefixOk = prefix === undefined || integerOk(prefix, maxPrefix);
      return rest.length === 0 && net.isIP(address) === family && prefixOk;
    };
    if (list.length === 0 || !list.every(valid)) throw needs(flag, what, raw);
    return list;
  };
}

function integerOk(raw: string, max: number): boolean {
  return /^\d+$/.test(raw) && Number(raw) <= max;
}

/** Where to serve metrics: HOST:PORT, [IPv6]:PORT (runtime/metrics/address.ts says what fits). */
export const metricsAddress: ValueCheck<string> = (raw, flag) => {
  try {
    parseMetricsAddress(raw);
  } catch (err) {
    throw usageError(`--${flag}: ${(err as Error).message}`);
  }
  return raw;
};
