/**
 * Checks of the request's target and authority that Envoy makes before routing: they decide
 * which route (and which AuthorizationPolicy rule) a request meets, so a value the proxy and the
 * upstream could read differently is refused rather than forwarded.
 */

/**
 * Bytes allowed in a Host / :authority value (RFC 3986 authority, as nghttp2_check_authority
 * and Envoy allow): unreserved, sub-delims, ":", "@", "%", "[" and "]".
 */
const AUTHORITY = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) AUTHORITY[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) AUTHORITY[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) AUTHORITY[c] = 1;
for (const c of "-._~!$&'()*+,;=:@%[]") AUTHORITY[c.charCodeAt(0)] = 1;

/**
 * The last authority that passed, per thread: requests on one worker mostly name the same
 * host, and one string comparison costs far less than the check.
 */
let lastValid: string | undefined;

export function isValidAuthority(s: string): boolean {
  if (s === lastValid) return true;
  if (!checkAuthority(s)) return false;
  lastValid = s;
  return true;
}

function checkAuthority(s: string): boolean {
  let brackets = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || AUTHORITY[c] === 0) return false;
    if (c === 0x5b || c === 0x5d) brackets = true;
  }
  if (!brackets) return s.length > 0;
  // Brackets only around an IPv6 literal at the start: "[v6]" or "[v6]:port".
  const close = s.indexOf(']');
  return s.charCodeAt(0) === 0x5b && close > 1 && s.indexOf('[', 1) < 0 && s.indexOf(']', close + 1) < 0 &&
    (close === s.length - 1 || s.charCodeAt(close + 1) === 0x3a);
}

export interface AbsoluteTarget {
  /** Lower case. */
  scheme: string;
  /** host[:port], without any userinfo. */
  authority: string;
  /** The path and query, "/" when the URL has none. */
  pathAndQuery: string;
}

/**
 * Splits an absolute-form target (`http://host:port/path?q`; the codec has checked its shape:
 * a scheme, "://" and a first authority byte). The path is kept byte for byte: a proxy does
 * not normalise it unless told to. Undefined when the authority is empty or invalid.
 */
export function splitAbsoluteTarget(target: string): AbsoluteTarget | undefined {
  const colon = target.indexOf(':');
  const start = colon + 3;
  let end = start;
  while (end < target.length) {
    const c = target.charCodeAt(end);
    if (c === 0x2f || c === 0x3f || c === 0x23) break; // "/", "?", "#"
    end++;
  }
  let authority = target.slice(start, end);
  // RFC 9112 §3.2.2: the target's host replaces Host; userinfo is not part of it.
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  if (!isValidAuthority(authority)) return undefined;
  const rest = target.slice(end);
  return {
    scheme: target.slice(0, colon).toLowerCase(),
    authority,
    pathAndQuery: rest.charCodeAt(0) === 0x2f ? rest : `/${rest}`,
  };
}
