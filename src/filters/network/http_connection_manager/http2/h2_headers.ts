import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import type { HeaderList } from '../codec/index.js';

/** Fields HTTP/2 forbids (RFC 9113 §8.2.2); `te` is allowed with the value `trailers` only. */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'host']);

/**
 * Node's raw header array (`[name, value, …]`, names lowercase) → a HeaderList without pseudo
 * fields; repeated `cookie` fields are joined with "; " (RFC 9113 §8.2.3) for HTTP/1.1 upstreams.
 */
export function fromRawHeaders(raw: readonly string[]): HeaderList {
  const h: HeaderList = [];
  let cookie: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 0x3a) continue;
    if (name === 'cookie') cookie = cookie === undefined ? raw[i + 1]! : `${cookie}; ${raw[i + 1]!}`;
    else h.push(name, raw[i + 1]!);
  }
  if (cookie !== undefined) h.push('cookie', cookie);
  return h;
}

/** A HeaderList → Node's header object for HTTP/2: no connection-specific fields; repeats become arrays. */
export function toH2Headers(h: HeaderList, out: OutgoingHttpHeaders): OutgoingHttpHeaders {
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    const value = h[i + 1]!;
    if (CONNECTION_SPECIFIC.has(name)) continue;
    if (name === 'te' && value.toLowerCase() !== 'trailers') continue;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [String(prev), value];
  }
  return out;
}

/** Node's (incoming) header object → HeaderList, pseudo fields left out. */
export function fromH2Headers(headers: IncomingHttpHeaders): HeaderList {
  const h: HeaderList = [];
  for (const name in headers) {
    if (name.charCodeAt(0) === 0x3a) continue;
    const v = headers[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) h.push(name, x);
    else h.push(name, String(v));
  }
  return h;
}
