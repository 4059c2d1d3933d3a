import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { DownstreamTls } from '../config/model.js';
import type { ClientHello } from '../tls/client_hello.js';
import { workloadCertificate } from '../tls/contexts.js';
import { clientCertificateRejected, gatewayServerContext } from '../tls/gateway_context.js';
import { clientCertificateOf } from '../tls/client_certificate.js';
import { spiffePrincipal } from '../tls/workload_identity.js';
import { L } from '../stats/scopes.js';
import type { ConnectionContext } from './connection.js';
import { detachReader } from './socket_reader.js';

/** A client that opens a connection and never finishes the handshake is closed after this. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

function serverContext(tls: DownstreamTls): SecureContext | undefined {
  if (tls.mode === 'ISTIO_MUTUAL') return workloadCertificate()?.context;
  return gatewayServerContext(tls);
}

/**
 * Terminates TLS on a chain that has a DownstreamTls (Envoy's DownstreamTlsContext): the
 * bytes tls_inspector already read are put back into the socket, where Node's TLSSocket takes
 * buffered data from when it wraps a socket, so the handshake sees the whole ClientHello. The
 * client certificate is required and verified against the root for ISTIO_MUTUAL and MUTUAL.
 * Once the handshake is done, `ctx.tls` says what it established and `ready` runs the chain's
 * filter on the decrypted socket; a failed handshake closes the connection, counted under
 * `listener.<name>.ssl.*`.
 */
export function terminateTls(raw: Socket, tls: DownstreamTls, hello: ClientHello | null | undefined, peeked: Buffer | undefined, ctx: ConnectionContext, ready: (socket: TLSSocket) => void): void {
  const { stats, statIndex } = ctx.worker;
  const lBase = statIndex.listeners[ctx.listenerName];
  const count = (field: number) => lBase !== undefined && stats.inc(lBase + field);
  const secureContext = serverContext(tls);
  if (!secureContext) {
    // No certificate to serve (the cert dir is empty or unreadable): as Envoy with a missing SDS secret, the handshake cannot start.
    count(L['ssl.connection_error']);
    raw.destroy();
    return;
  }
  const mutual = tls.mode === 'ISTIO_MUTUAL' || tls.mode === 'MUTUAL';
  // Whatever was read past the ClientHello (kept by socket_reader) follows it; stream-mode sockets stop flowing first.
  const early = detachReader(raw);
  const buffered = peeked && early.length ? Buffer.concat([peeked, ...early]) : (peeked ?? (early.length ? Buffer.concat(early) : undefined));
  if (buffered) raw.unshift(buffered);
  const alpn = tls.alpnProtocols;
  const socket = new TLSSocket(raw, {
    isServer: true,
    secureContext,
    requestCert: mutual || tls.mode === 'OPTIONAL_MUTUAL',
    rejectUnauthorized: mutual,
    // Envoy picks the first of its own protocols the client offers, and goes on without ALPN when none is.
    ALPNCallback: alpn ? ({ protocols }) => alpn.find((p) => protocols.includes(p)) : undefined,
  });
  const timer = setTimeout(() => socket.destroy(), HANDSHAKE_TIMEOUT_MS);
  const onError = (err: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    count(/certificate/i.test(err.message) && /no|required/i.test(err.message) ? L['ssl.no_certificate'] : L['ssl.connection_error']);
    socket.destroy();
    raw.destroy();
  };
  socket.once('error', onError);
  socket.once('secure', () => {
    clearTimeout(timer);
    socket.off('error', onError);
    socket.on('error', () => socket.destroy());
    const principal = spiffePrincipal(socket.getPeerCertificate().subjectaltname);
    if ((mutual && tls.matchSubjectAltNamePrefix && !principal?.startsWith(tls.matchSubjectAltNamePrefix)) || clientCertificateRejected(socket, tls)) {
      count(L['ssl.fail_verify_san']);
      socket.destroy();
      return;
    }
    count(L['ssl.handshake']);
    ctx.tls = { sni: hello?.sni, alpn: socket.alpnProtocol || undefined, peerPrincipal: principal, clientCertificate: clientCertificateOf(socket) };
    ready(socket);
  });
}
