import type { StringMatcher } from '../../../config/model.js';
import { compileRe2 } from '../../../config/re2.js';

export type Matcher = (value: string) => boolean;

/**
 * Envoy's StringMatcher compiled to one closure, once per snapshot. Regexes match the whole
 * value, as RE2's FullMatch does in Envoy (validation has already refused what RE2 cannot do).
 */
export function compileStringMatcher(m: StringMatcher): Matcher {
  const ic = m.ignoreCase === true;
  const fold = (s: string) => (ic ? s.toLowerCase() : s);
  if (m.exact !== undefined) {
    const want = fold(m.exact);
    return ic ? (v) => v.toLowerCase() === want : (v) => v === want;
  }
  if (m.prefix !== undefined) {
    const want = fold(m.prefix);
    return ic ? (v) => v.toLowerCase().startsWith(want) : (v) => v.startsWith(want);
  }
  if (m.suffix !== undefined) {
    const want = fold(m.suffix);
    return ic ? (v) => v.toLowerCase().endsWith(want) : (v) => v.endsWith(want);
  }
  if (m.contains !== undefined) {
    const want = fold(m.contains);
    return ic ? (v) => v.toLowerCase().includes(want) : (v) => v.includes(want);
  }
  if (m.safeRegex !== undefined) {
    const re = compileRe2(m.safeRegex, { anchored: true, ignoreCase: ic });
    return (v) => re.test(v);
  }
  return () => true;
}
