/**
 * Header representation: a flat array `[name, value, name, value, …]` with names already
 * lowercase (computed once by the parser, interned for common names) and values as latin1
 * strings (byte-transparent: every received byte maps to one char, and the serializer writes
 * them back as the same byte). No Map, no per-header object.
 */
export type HeaderList = string[];

import { Buffer } from 'node:buffer';
import { equalsIgnoreCase } from './chars.js';

/** Names the parser returns as shared constants instead of allocating a string each time. */
export const COMMON_NAMES: readonly string[] = [
  'host', 'accept', 'user-agent', 'accept-encoding', 'accept-language', 'connection',
  'content-length', 'content-type', 'transfer-encoding', 'expect', 'upgrade', 'te', 'trailer',
  'keep-alive', 'proxy-connection', 'cookie', 'set-cookie', 'date', 'server', 'cache-control',
  'authorization', 'referer', 'origin', 'x-forwarded-for', 'x-forwarded-proto', 'x-request-id',
  'x-envoy-attempt-count', 'x-envoy-upstream-service-time', 'x-envoy-expected-rq-timeout-ms',
  'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'traceparent', 'tracestate',
  'etag', 'last-modified', 'location', 'vary', 'pragma', 'if-none-match', 'if-modified-since',
  'content-encoding', 'range', 'accept-ranges', 'age', 'expires', 'x-forwarded-host', 'forwarded',
  'via', 'x-real-ip', 'access-control-allow-origin', 'grpc-status', 'grpc-message', 'grpc-timeout',
];

/** Longest common name; longer tokens are never interned. */
const MAX_COMMON = Math.max(...COMMON_NAMES.map((n) => n.length));
/** A common name and its bytes: comparing bytes with bytes is cheaper than reading a string's chars. */
interface CommonName {
  name: string;
  bytes: Uint8Array;
}

/**
 * Common names by length and first byte, so a lookup compares about one candidate (a bucket
 * per length alone held up to five, compared char by char on every field). Dense and filled
 * up front: V8 keeps it a plain array, not a hash table.
 */
const BY_LENGTH_AND_FIRST: (CommonName[] | undefined)[] = new Array<CommonName[] | undefined>((MAX_COMMON + 1) << 7).fill(undefined);
for (const name of COMMON_NAMES) {
  (BY_LENGTH_AND_FIRST[(name.length << 7) | name.charCodeAt(0)] ??= []).push({ name, bytes: Buffer.from(name, 'latin1') });
}

/**
 * The interned lowercase name for the token at b[start, end), or undefined. The bytes must
 * already be validated as tchars.
 */
export function internName(b: Uint8Array, start: number, end: number): string | undefined {
  const n = end - start;
  if (n > MAX_COMMON || n === 0) return undefined;
  // On tchars, b | 0x20 lowercases letters and maps no other byte onto a letter, digit or '-'
  // (all that common names contain): an OR instead of a table load per byte.
  const bucket = BY_LENGTH_AND_FIRST[(n << 7) | ((b[start]! | 0x20) & 0x7f)];
  if (bucket === undefined) return undefined;
  outer: for (let k = 0; k < bucket.length; k++) {
    const cand = bucket[k]!;
    const bytes = cand.bytes;
    for (let i = 1; i < n; i++) {
      if ((b[start + i]! | 0x20) !== bytes[i]) continue outer;
    }
    return cand.name;
  }
  return undefined;
}

// The lookups below compare lengths before strings: a length is a load, a string comparison a
// call, and most fields of a list differ from the name sought in length.

/** First value of `name` (lowercase), or undefined. */
export function getHeader(h: HeaderList, name: string): string | undefined {
  const n = name.length;
  for (let i = 0; i < h.length; i += 2) if (h[i]!.length === n && h[i] === name) return h[i + 1];
  return undefined;
}

/** Every value of `name`, in order. */
export function getHeaderAll(h: HeaderList, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < h.length; i += 2) if (h[i] === name) out.push(h[i + 1]!);
  return out;
}

export function hasHeader(h: HeaderList, name: string): boolean {
  const n = name.length;
  for (let i = 0; i < h.length; i += 2) if (h[i]!.length === n && h[i] === name) return true;
  return false;
}

/**
 * Shortens `h` to `length`. Assigning `length` is a call into V8's C++ runtime (about 400
 * instructions) even when nothing changes; pop() is a builtin, and lists lose a field or two.
 */
function truncate(h: HeaderList, length: number): void {
  while (h.length > length) h.pop();
}

/** Removes every field named `name`, in place. Returns how many were removed. */
export function removeHeader(h: HeaderList, name: string): number {
  const n = name.length;
  let w = 0;
  for (let r = 0; r < h.length; r += 2) {
    if (h[r]!.length === n && h[r] === name) continue;
    if (w !== r) {
      h[w] = h[r]!;
      h[w + 1] = h[r + 1]!;
    }
    w += 2;
  }
  const removed = (h.length - w) >> 1;
  truncate(h, w);
  return removed;
}

/** Replaces the first `name` field's value (removing any others), or appends one. */
export function setHeader(h: HeaderList, name: string, value: string): void {
  const n = name.length;
  for (let i = 0; i < h.length; i += 2) {
    if (h[i]!.length === n && h[i] === name) {
      h[i + 1] = value;
      // Drop later duplicates.
      let w = i + 2;
      for (let r = i + 2; r < h.length; r += 2) {
        if (h[r] === name) continue;
        h[w] = h[r]!;
        h[w + 1] = h[r + 1]!;
        w += 2;
      }
      truncate(h, w);
      return;
    }
  }
  h.push(name, value);
}

export function appendHeader(h: HeaderList, name: string, value: string): void {
  h.push(name, value);
}

/**
 * Calls `fn(start, end)` for each element of a comma-separated list (RFC 9110 §5.6.1) with
 * OWS trimmed; empty elements are skipped. Returns false when `fn` returns false.
 */
function forEachListElement(value: string, fn: (start: number, end: number) => boolean): boolean {
  const n = value.length;
  let i = 0;
  while (i < n) {
    let s = i;
    while (s < n && (value.charCodeAt(s) === 0x20 || value.charCodeAt(s) === 0x09)) s++;
    let e = value.indexOf(',', s);
    if (e === -1) e = n;
    i = e + 1;
    while (e > s && (value.charCodeAt(e - 1) === 0x20 || value.charCodeAt(e - 1) === 0x09)) e--;
    if (e > s && !fn(s, e)) return false;
  }
  return true;
}

/** ASCII case-insensitive comparison of value[start,end) with a lowercase `token`. */
export function tokenEquals(value: string, start: number, end: number, token: string): boolean {
  if (end - start !== token.length) return false;
  for (let i = 0; i < token.length; i++) {
    let c = value.charCodeAt(start + i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== token.charCodeAt(i)) return false;
  }
  return true;
}

/** True when the comma-separated `value` has `token` (lowercase) as an element. */
export function listHasToken(value: string, token: string): boolean {
  return !forEachListElement(value, (s, e) => !tokenEquals(value, s, e, token));
}

/** Lowercase elements of a comma-separated list (e.g. a Connection header's value). */
export function listTokens(value: string): string[] {
  const out: string[] = [];
  forEachListElement(value, (s, e) => {
    out.push(value.slice(s, e).toLowerCase());
    return true;
  });
  return out;
}

/** Hop-by-hop fields (RFC 9110 §7.6.1 plus the legacy ones every proxy strips). */
export const HOP_BY_HOP: readonly string[] = [
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'upgrade', 'trailer',
];

export interface StripHopByHopOptions {
  /** Keep `upgrade` (and the `upgrade` token) for a request being forwarded as an upgrade. */
  keepUpgrade?: boolean;
  /** Keep `te: trailers` (gRPC needs it; Envoy keeps it too). Default true. */
  keepTeTrailers?: boolean;
}

/** The options for a request or response forwarded as an upgrade; made once, not per message. */
export const KEEP_UPGRADE: StripHopByHopOptions = Object.freeze({ keepUpgrade: true });

/**
 * connection, keep-alive, proxy-connection, transfer-encoding, trailer. By length first: most
 * fields are none of these, and a length is a load where a string comparison is a call.
 */
function isFixedHopByHop(name: string): boolean {
  switch (name.length) {
    case 7: return name === 'trailer';
    case 10: return name === 'connection' || name === 'keep-alive';
    case 16: return name === 'proxy-connection';
    case 17: return name === 'transfer-encoding';
    default: return false;
  }
}

/** The Connection value names no field but itself (the usual `keep-alive` or `close`). */
function namesNoField(value: string): boolean {
  return equalsIgnoreCase(value, 'keep-alive') || equalsIgnoreCase(value, 'close');
}

/**
 * Removes hop-by-hop fields in place: the fixed list above and every field named by a token of
 * the Connection header(s). Returns the list for chaining. One pass over the list; a second only
 * when a Connection header names other fields (they may come before it).
 */
export function stripHopByHop(h: HeaderList, opts?: StripHopByHopOptions): HeaderList {
  const keepUpgrade = opts !== undefined && opts.keepUpgrade === true;
  const keepTeTrailers = opts === undefined || opts.keepTeTrailers !== false;
  let nominated: string[] | undefined;
  let w = 0;
  for (let r = 0; r < h.length; r += 2) {
    const name = h[r]!;
    const value = h[r + 1]!;
    if (name.length === 10 && name === 'connection') {
      if (!namesNoField(value)) {
        // `te` and `upgrade` follow their own rules below, whether named here or not (a client
        // that sends `te: trailers` must also name it: `connection: te`).
        for (const t of listTokens(value)) if (t !== 'te' && t !== 'upgrade') (nominated ??= []).push(t);
      }
      continue;
    }
    if (isFixedHopByHop(name)) continue;
    if (name.length === 7 && name === 'upgrade') {
      if (!keepUpgrade) continue;
    } else if (name.length === 2 && name === 'te') {
      if (!(keepTeTrailers && listHasToken(value, 'trailers'))) continue;
      h[w] = name;
      h[w + 1] = 'trailers';
      w += 2;
      continue;
    }
    if (w !== r) {
      h[w] = name;
      h[w + 1] = value;
    }
    w += 2;
  }
  truncate(h, w);
  if (nominated !== undefined) removeNominated(h, nominated);
  if (keepUpgrade && hasHeader(h, 'upgrade')) h.push('connection', 'upgrade');
  return h;
}

/** Removes every field a Connection header named. */
function removeNominated(h: HeaderList, nominated: string[]): void {
  let w = 0;
  for (let r = 0; r < h.length; r += 2) {
    if (nominated.includes(h[r]!)) continue;
    if (w !== r) {
      h[w] = h[r]!;
      h[w + 1] = h[r + 1]!;
    }
    w += 2;
  }
  truncate(h, w);
}
