import { IpRanges } from '../../../listener/ip_ranges.js';
import type { ValueMatch } from '../../../config/model.js';

/** A compiled value test; `undefined` is an absent attribute, which only `not…` lists can accept. */
export type Matcher = (value: string | undefined) => boolean;

/**
 * Istio's string forms: `*` (present and not empty), `prefix*`, `*suffix`, else exact.
 * `ignoreCase` for hosts, which Istio matches case-insensitively.
 */
export function istioString(pattern: string, ignoreCase = false): Matcher {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const norm = ignoreCase ? (v: string) => v.toLowerCase() : (v: string) => v;
  if (p === '*') return (v) => v !== undefined && v !== '';
  if (p.endsWith('*')) {
    const prefix = p.slice(0, -1);
    return (v) => v !== undefined && norm(v).startsWith(prefix);
  }
  if (p.startsWith('*')) {
    const suffix = p.slice(1);
    return (v) => v !== undefined && norm(v).endsWith(suffix);
  }
  return (v) => v !== undefined && norm(v) === p;
}

/** `::ffff:10.0.0.1` (a v4 peer on a dual-stack socket) is 10.0.0.1. */
export function plainIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/** CIDRs and bare addresses (a bare address is a /32 or /128). */
export function ipMatcher(blocks: readonly string[]): Matcher {
  const ranges = new IpRanges(blocks);
  return (v) => v !== undefined && v !== '' && ranges.has(plainIp(v));
}

/** Any of `values` (when given) and none of `notValues`. */
export function valueMatcher(m: ValueMatch, one: (pattern: string) => Matcher): Matcher {
  const yes = m.values?.length ? m.values.map(one) : undefined;
  const no = m.notValues?.length ? m.notValues.map(one) : undefined;
  return (v) => {
    if (yes && !anyMatch(yes, v)) return false;
    return !(no && anyMatch(no, v));
  };
}

/** The same over a list-valued attribute (JWT audiences, list claims): any element may match, none may be excluded. */
export function listMatcher(m: ValueMatch, one: (pattern: string) => Matcher): (vs: readonly string[] | undefined) => boolean {
  const yes = m.values?.length ? m.values.map(one) : undefined;
  const no = m.notValues?.length ? m.notValues.map(one) : undefined;
  return (vs) => {
    const list = vs ?? [];
    if (yes && !list.some((v) => anyMatch(yes, v))) return false;
    return !(no && list.some((v) => anyMatch(no, v)));
  };
}

/** A set of blocks compiled as one matcher (CIDR lists are matched together, not one by one). */
export function ipValueMatcher(m: ValueMatch): Matcher {
  const yes = m.values?.length ? ipMatcher(m.values) : undefined;
  const no = m.notValues?.length ? ipMatcher(m.notValues) : undefined;
  return (v) => (!yes || yes(v)) && !(no && no(v));
}

function anyMatch(ms: readonly Matcher[], v: string | undefined): boolean {
  for (let i = 0; i < ms.length; i++) if (ms[i](v)) return true;
  return false;
}
