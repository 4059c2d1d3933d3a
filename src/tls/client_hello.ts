/**
 * What Envoy's tls_inspector reads from a TLS ClientHello: the SNI and the offered ALPN
 * protocols, parsed by hand from the first bytes without consuming them (they are then fed to
 * the TLS terminator, or forwarded untouched on a passthrough chain). The handshake message
 * may span several records; everything past the ClientHello is ignored.
 */
import { Buffer } from 'node:buffer';
export interface ClientHello {
  sni: string | undefined;
  alpn: string[];
}

/** Envoy's default max_client_hello_size (64 KiB). */
export const MAX_CLIENT_HELLO = 64 * 1024;

export const NEED_MORE = 'need-more';
/** Not TLS: the connection's transport protocol is raw_buffer. */
export const NOT_TLS = 'not-tls';
/** TLS, but a ClientHello larger than MAX_CLIENT_HELLO: Envoy closes the connection. */
export const TOO_LARGE = 'too-large';

export type HelloResult = ClientHello | typeof NEED_MORE | typeof NOT_TLS | typeof TOO_LARGE;

const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const EXT_ALPN = 0x0010;

/** Parses the bytes read so far; NEED_MORE until the whole ClientHello is there. */
export function parseClientHello(b: Buffer): HelloResult {
  if (b.length === 0) return NEED_MORE;
  if (b[0] !== RECORD_HANDSHAKE) return NOT_TLS;
  // Record headers: type, version (major 3), length. The handshake message is reassembled from their payloads.
  const parts: Buffer[] = [];
  let have = 0;
  let need = -1;
  let off = 0;
  while (need < 0 || have < need) {
    if (off + 5 > b.length) return b.length > MAX_CLIENT_HELLO + 5 ? TOO_LARGE : NEED_MORE;
    if (b[off] !== RECORD_HANDSHAKE || b[off + 1] !== 3) return NOT_TLS;
    const len = b.readUInt16BE(off + 3);
    if (len === 0 || len > 16384 + 2048) return NOT_TLS;
    const end = Math.min(off + 5 + len, b.length);
    parts.push(b.subarray(off + 5, end));
    have += end - off - 5;
    if (need < 0 && have >= 4) {
      const head = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return NOT_TLS;
      need = 4 + head.readUIntBE(1, 3);
      if (need > MAX_CLIENT_HELLO) return TOO_LARGE;
    }
    if (end < off + 5 + len) {
      if (need >= 0 && have >= need) break;
      return NEED_MORE;
    }
    off = end;
  }
  const msg = parts.length === 1 ? parts[0] : Buffer.concat(parts);
  return parseBody(msg.subarray(4, need)) ?? NOT_TLS;
}

/** The ClientHello body; undefined when malformed (then it is not TLS we understand, as BoringSSL would fail it). */
function parseBody(m: Buffer): ClientHello | undefined {
  let p = 2 + 32; // legacy_version, random
  if (p + 1 > m.length) return undefined;
  p += 1 + m[p]; // session id
  if (p + 2 > m.length) return undefined;
  p += 2 + m.readUInt16BE(p); // cipher suites
  if (p + 1 > m.length) return undefined;
  p += 1 + m[p]; // compression methods
  const hello: ClientHello = { sni: undefined, alpn: [] };
  if (p === m.length) return hello; // no extensions
  if (p + 2 > m.length) return undefined;
  const extEnd = p + 2 + m.readUInt16BE(p);
  if (extEnd > m.length) return undefined;
  p += 2;
  while (p < extEnd) {
    if (p + 4 > extEnd) return undefined;
    const type = m.readUInt16BE(p);
    const len = m.readUInt16BE(p + 2);
    const data = p + 4;
    p = data + len;
    if (p > extEnd) return undefined;
    if (type === EXT_SERVER_NAME && !readServerName(m.subarray(data, p), hello)) return undefined;
    if (type === EXT_ALPN && !readAlpn(m.subarray(data, p), hello)) return undefined;
  }
  return hello;
}

function readServerName(e: Buffer, hello: ClientHello): boolean {
  if (e.length < 2 || 2 + e.readUInt16BE(0) !== e.length) return false;
  for (let p = 2; p < e.length; ) {
    if (p + 3 > e.length) return false;
    const kind = e[p];
    const len = e.readUInt16BE(p + 1);
    if (p + 3 + len > e.length) return false;
    // host_name (0); SNI is matched case-insensitively.
    if (kind === 0 && hello.sni === undefined) hello.sni = e.toString('latin1', p + 3, p + 3 + len).toLowerCase();
    p += 3 + len;
  }
  return true;
}

function readAlpn(e: Buffer, hello: ClientHello): boolean {
  if (e.length < 2 || 2 + e.readUInt16BE(0) !== e.length) return false;
  for (let p = 2; p < e.length; ) {
    const len = e[p];
    if (len === 0 || p + 1 + len > e.length) return false;
    hello.alpn.push(e.toString('latin1', p + 1, p + 1 + len));
    p += 1 + len;
  }
  return true;
}
