import { isIP } from 'node:net';

/** Value checks shared by the readers; each returns undefined when valid, else a message. */

const DURATION_UNITS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };

/**
 * Istio's protobuf durations as the Kubernetes API accepts them (Go syntax: "10s", "1.5s",
 * "1h30m", "250ms"). Istio requires at least 1 ms and millisecond precision.
 */
export function parseIstioDuration(value: unknown, opts: { allowZero?: boolean } = {}): { ms: number } | { error: string } {
  if (typeof value !== 'string' || value === '') return { error: `invalid duration ${JSON.stringify(value)} (expected e.g. "10s", "250ms", "1h")` };
  const re = /(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|ns)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    consumed = re.lastIndex;
  }
  if (value === '0') consumed = 1;
  if (consumed !== value.length) return { error: `invalid duration ${JSON.stringify(value)} (expected e.g. "10s", "250ms", "1h")` };
  const ms = Math.round(total * 1e6) / 1e6;
  if (ms === 0 && opts.allowZero) return { ms: 0 };
  if (ms < 1) return { error: `duration ${value} must be at least 1ms` };
  if (!Number.isInteger(ms)) return { error: `duration ${value}: only millisecond precision is supported` };
  return { ms };
}

export const isPort = (n: unknown): n is number => Number.isInteger(n) && (n as number) > 0 && (n as number) < 65536;

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/i;

/** Kubernetes DNS-1123 label (namespaces, gateway names). */
export function isDns1123Label(s: string): boolean {
  return s.length > 0 && s.length <= 63 && LABEL.test(s) && s === s.toLowerCase();
}

export interface HostRules {
  /** `*.example.com` */
  wildcard?: boolean;
  /** `*` alone */
  star?: boolean;
  /** IP addresses (VirtualService hosts may be IPs). */
  ip?: boolean;
}

/** Istio's hostname rules: DNS labels, optional leading `*.` wildcard, at most 255 characters. */
export function hostError(h: unknown, rules: HostRules = { wildcard: true }): string | undefined {
  if (typeof h !== 'string' || h === '') return `invalid host ${JSON.stringify(h)}`;
  if (h === '*') return rules.star ? undefined : 'host "*" is not allowed here';
  if (isIP(h)) return rules.ip ? undefined : `host ${h}: IP addresses are not allowed here`;
  if (h.length > 255) return `host ${h} is longer than 255 characters`;
  let rest = h;
  if (h.startsWith('*.')) {
    if (!rules.wildcard) return `wildcard host ${h} is not allowed here`;
    rest = h.slice(2);
  } else if (h.startsWith('*')) {
    // Istio also allows `*foo.com`-style prefix wildcards on some fields; treated as a suffix match.
    if (!rules.wildcard) return `wildcard host ${h} is not allowed here`;
    rest = h.slice(1);
    if (rest.startsWith('.')) rest = rest.slice(1);
  }
  const labels = rest.replace(/\.$/, '').split('.');
  for (const l of labels) {
    if (l.length === 0 || l.length > 63 || !LABEL.test(l)) return `invalid host ${JSON.stringify(h)} (DNS labels of letters, digits and '-')`;
  }
  return undefined;
}

/** An IP or CIDR. */
export function addressOrCidrError(a: unknown): string | undefined {
  if (typeof a !== 'string') return `invalid address ${JSON.stringify(a)} (expected an IP or CIDR)`;
  const [ip, bits, extra] = a.split('/');
  const family = isIP(ip);
  if (extra !== undefined || family === 0) return `invalid address ${JSON.stringify(a)} (expected an IP or CIDR)`;
  if (bits === undefined) return undefined;
  const n = Number(bits);
  if (!/^\d+$/.test(bits) || n > (family === 4 ? 32 : 128)) return `invalid prefix length in ${JSON.stringify(a)}`;
  return undefined;
}

/** Istio's header names for matches and mutations: letters, digits, '-' and '_'. */
export function headerNameError(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  if (!/^[-_A-Za-z0-9]+$/.test(name)) return `header name ${JSON.stringify(name)} is not a valid header name`;
  return undefined;
}

/** Header values Envoy accepts: no control characters, `%` only as `%%` or around a command. */
export function headerValueError(value: unknown): string | undefined {
  if (typeof value !== 'string') return `header value must be a string, got ${JSON.stringify(value)}`;
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) return `header value ${JSON.stringify(value)} contains control characters`;
  const stripped = value.replace(/%%/g, '').replace(/%[A-Z_][A-Z0-9_]*(\([^)]*\))?(:[A-Za-z0-9_]+)?%/g, '');
  if (stripped.includes('%')) return `header value ${JSON.stringify(value)}: a literal % must be written %%`;
  return undefined;
}

export const isPlainObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
