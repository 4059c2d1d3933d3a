import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { setReader } from './socket_reader.js';
import { NEED_MORE, NOT_TLS, parseClientHello, TOO_LARGE, type ClientHello } from '../tls/client_hello.js';

/**
 * Envoy's tls_inspector: reads the client's first bytes until a whole ClientHello is there
 * (SNI, ALPN) or they are plainly not TLS (`null`: raw_buffer). Nothing is consumed: the bytes
 * read are handed to `done` for the TLS terminator, http_inspector or the chosen filter. A
 * ClientHello over Envoy's size limit, a FIN or a silent client also end with `null` except
 * the first, which closes (Envoy's client_hello_too_large). `timeoutMs` 0: wait without limit;
 * `timedOut` tells a silent client from the others.
 */
export function inspectTls(socket: Socket, timeoutMs: number, done: (hello: ClientHello | null, peeked: Buffer | undefined, timedOut?: boolean) => void): void {
  let buf: Buffer | undefined;
  let finished = false;
  const finish = (hello: ClientHello | null, timedOut = false) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.off('end', onEnd);
    setReader(socket, undefined);
    done(hello, buf, timedOut);
  };
  const onEnd = () => finish(null);
  // A server-first protocol says nothing: after the timeout it is treated as raw_buffer, as Envoy does.
  const timer = timeoutMs > 0 ? setTimeout(() => finish(null, true), timeoutMs) : undefined;
  socket.once('end', onEnd);
  setReader(socket, (bytes) => {
    // Kept past this call: copied (the read buffer is reused).
    buf = buf ? Buffer.concat([buf, bytes]) : Buffer.from(bytes);
    const r = parseClientHello(buf);
    if (r === NEED_MORE) return;
    if (r === TOO_LARGE) {
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      return;
    }
    finish(r === NOT_TLS ? null : r);
  });
}
