import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { setReader } from './socket_reader.js';

/** What Envoy's http_inspector reports, as filter chains' `application_protocols` name it. */
export type DetectedProtocol = 'http/1.1' | 'http/1.0' | 'h2c' | undefined;

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const MAX_PEEK = 8192;
const PENDING = 'pending';

/** A method token: RFC 9110 tchar. */
function isTchar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || '!#$%&\'*+-.^_`|~'.includes(String.fromCharCode(c));
}

/** Classifies the first bytes of a connection; PENDING while they could still be either. */
export function classify(b: Buffer): DetectedProtocol | typeof PENDING {
  const n = Math.min(b.length, H2_PREFACE.length);
  if (b.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return b.length >= H2_PREFACE.length ? 'h2c' : PENDING;
  let i = 0;
  while (i < b.length && isTchar(b[i])) i++;
  if (i === b.length) return b.length > 32 ? undefined : PENDING;
  if (i === 0 || b[i] !== 0x20) return undefined;
  const lf = b.indexOf(0x0a, i);
  if (lf < 0) return b.length > MAX_PEEK ? undefined : PENDING;
  const line = b.toString('latin1', 0, lf > 0 && b[lf - 1] === 0x0d ? lf - 1 : lf);
  if (line.endsWith(' HTTP/1.1')) return 'http/1.1';
  if (line.endsWith(' HTTP/1.0')) return 'http/1.0';
  return undefined;
}

/**
 * Envoy's http_inspector: reads the first bytes and reports HTTP/1.x, h2c (prior knowledge) or
 * nothing — on a non-HTTP first line, at the client's FIN, or when the client stays silent for
 * `timeoutMs` (a server-first protocol; 0: wait without limit), after which the connection falls
 * back to its TCP chain (`timedOut` says so). The bytes it read are handed to `done`, for the
 * chosen filter to start from.
 */
export function inspectHttp(
  socket: Socket,
  timeoutMs: number,
  done: (protocol: DetectedProtocol, peeked: Buffer | undefined, timedOut?: boolean) => void,
  initial?: Buffer,
): void {
  // `initial`: bytes tls_inspector already read (and found not to be TLS).
  let buf: Buffer | undefined = initial;
  if (initial) {
    const r = classify(initial);
    if (r !== PENDING) return done(r, initial);
  }
  // The client's FIN came while tls_inspector read: 'end' has fired already, nothing more will come.
  if (socket.readableEnded) return done(undefined, initial);
  let finished = false;
  const finish = (p: DetectedProtocol, timedOut = false) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.off('end', onEnd);
    setReader(socket, undefined);
    done(p, buf, timedOut);
  };
  const onEnd = () => finish(undefined);
  const timer = timeoutMs > 0 ? setTimeout(() => finish(undefined, true), timeoutMs) : undefined;
  socket.once('end', onEnd);
  setReader(socket, (bytes) => {
    // Kept past this call: copied (the read buffer is reused).
    buf = buf ? Buffer.concat([buf, bytes]) : Buffer.from(bytes);
    const r = classify(buf);
    if (r !== PENDING) finish(r);
  });
}
