import type { HashPolicy } from '../../../config/model.js';
import { combineHashes, hashToHex, xxHash64, type Hash64 } from '../../../cluster/lb/xxhash64.js';
import { getHeader, type HeaderList } from '../../network/http_connection_manager/codec/index.js';
import { addressIp } from '../../network/http_connection_manager/forwarded_headers.js';

/** What a hash policy can read from a request. Addresses are `ip:port`, as the connection manager keeps them. */
export interface HashInput {
  headers: HeaderList;
  /** The query string without `?`. */
  query: string;
  remoteAddress: string;
  localAddress: string;
}

export interface RequestHash {
  /** Undefined when no policy found its input: the balancer then uses a random key. */
  hash: Hash64 | undefined;
  /** A `set-cookie` value for the response: a cookie policy with a ttl generated the cookie. */
  setCookie?: string;
}

/**
 * The route's hash policies (Envoy's RouteAction.hash_policy, filled from the
 * DestinationRule's consistentHash): each that finds its input contributes xxHash64 of it,
 * combined as Envoy does (rotate left one, xor). Only computed for RING_HASH / MAGLEV clusters.
 */
export function requestHash(policies: readonly HashPolicy[], req: HashInput): RequestHash {
  let hash: Hash64 | undefined;
  let setCookie: string | undefined;
  for (const p of policies) {
    let key: string | undefined;
    if ('header' in p) key = getHeader(req.headers, p.header.headerName);
    else if ('connectionProperties' in p) key = addressIp(req.remoteAddress);
    else if ('queryParameter' in p) key = queryParameter(req.query, p.queryParameter.name);
    else {
      key = cookieValue(req.headers, p.cookie.name);
      if (key === undefined && p.cookie.ttlMs !== undefined) {
        // Envoy: the value is stable per downstream connection, so racing requests agree.
        key = hashToHex(xxHash64(req.remoteAddress + req.localAddress));
        setCookie = setCookieValue(p.cookie.name, key, p.cookie.path, p.cookie.ttlMs);
      }
    }
    if (key === undefined) continue;
    const h = xxHash64(key);
    hash = hash ? combineHashes(hash, h) : h;
  }
  return setCookie === undefined ? { hash } : { hash, setCookie };
}

/** Envoy's makeSetCookieValue: quoted value, Max-Age in seconds unless 0 (a session cookie), Path, HttpOnly. */
export function setCookieValue(name: string, value: string, path: string | undefined, ttlMs: number): string {
  let out = `${name}="${value}"`;
  const maxAge = Math.floor(ttlMs / 1000);
  if (maxAge > 0) out += `; Max-Age=${maxAge}`;
  if (path) out += `; Path=${path}`;
  return `${out}; HttpOnly`;
}

/** The first value of a `cookie` header's `name=value` pair (quotes removed, as Envoy does). */
export function cookieValue(headers: HeaderList, name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'cookie') continue;
    for (const part of headers[i + 1].split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
      const v = part.slice(eq + 1).trim();
      return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
    }
  }
  return undefined;
}

function queryParameter(query: string, name: string): string | undefined {
  if (query === '') return undefined;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const k = eq < 0 ? pair : pair.slice(0, eq);
    if (decode(k) === name) return eq < 0 ? '' : decode(pair.slice(eq + 1));
  }
  return undefined;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
