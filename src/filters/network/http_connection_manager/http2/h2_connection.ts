import { Buffer } from 'node:buffer';
import { constants, createServer, type Http2Server, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { H } from '../../../../stats/scopes.js';
import { setReader } from '../../../../listener/socket_reader.js';
import { isDraining, trackConnection, untrackConnection, type DrainableConnection } from '../drain.js';
import type { HttpContext } from '../http_context.js';
import { H2Downstream, type H2StreamOwner } from './h2_stream.js';
import { DOWNSTREAM_H2_OPTIONS, H2_CONNECTION_WINDOW, RapidResetGuard } from './h2_settings.js';
import { nothingToEnd, runGuarded } from '../../../../guarded_timer.js';

/** One http2 server per worker: only its session factory is used (sockets are handed to it). */
let server: Http2Server | undefined;
let adopted: Http2Session | undefined;

function sessionFactory(): Http2Server {
  if (server) return server;
  server = createServer(DOWNSTREAM_H2_OPTIONS);
  // Emitted synchronously from 'connection': the session of the socket just handed over.
  server.on('session', (s) => (adopted = s));
  // Our listeners are per session; the server's own request handling stays unused.
  server.removeAllListeners('stream');
  return server;
}

/**
 * The HTTP connection manager for one downstream prior-knowledge HTTP/2 (h2c) connection: the
 * framing is Node's nghttp2 session; each stream becomes an ActiveStream (same routes, filters,
 * router as HTTP/1.1). A drain sends GOAWAY and lets the streams in flight finish.
 */
export class H2ConnectionManager implements DrainableConnection, H2StreamOwner {
  readonly localAddress: string;
  readonly remoteAddress: string;
  private readonly session: Http2Session;
  private readonly resets = new RapidResetGuard();
  private closing = false;

  constructor(
    socket: Socket,
    private readonly ctx: HttpContext,
    private readonly streamContext: () => HttpContext,
    peeked: Buffer | undefined,
  ) {
    this.localAddress = `${ctx.originalDst.address}:${ctx.originalDst.port}`;
    this.remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    // The session reads the socket's handle itself; bytes read before (the preface that protocol
    // detection peeked at, and any that arrived since) go back into the socket's buffer, which
    // the session consumes first.
    const early: Buffer[] = peeked ? [peeked] : [];
    setReader(socket, (b) => early.push(Buffer.from(b)));
    setReader(socket, undefined);
    socket.pause();
    if (early.length > 0) socket.unshift(early.length === 1 ? early[0]! : Buffer.concat(early));
    // A TLS socket we terminated ourselves (not accepted by a tls.Server) keeps secureConnecting
    // true after its handshake, and the session would wait for a 'secureConnect' that never comes.
    if ((socket as TLSSocket).encrypted) (socket as TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
    sessionFactory().emit('connection', socket);
    const session = adopted!;
    adopted = undefined;
    this.session = session;
    session.setLocalWindowSize(H2_CONNECTION_WINDOW);
    session.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, raw: string[]) => this.onStream(stream, headers, raw));
    session.on('error', () => {});
    session.on('close', () => runGuarded(() => this.onClose(), 'an h2 client session close\'s handling', nothingToEnd));
    if (ctx.httpStats !== undefined) {
      ctx.stats.inc(ctx.httpStats + H.downstream_cx_total);
      ctx.stats.inc(ctx.httpStats + H.downstream_cx_http2_total);
      ctx.stats.inc(ctx.httpStats + H.downstream_cx_active);
    }
    trackConnection(ctx.listenerName, this);
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, raw: string[]): void {
    this.resets.onStreamOpened();
    // A throw while handling the request (a bug) resets this stream only (guarded_timer.ts).
    runGuarded(() => new H2Downstream(stream, headers, raw, this.streamContext(), this).start(), 'an h2 request\'s handling', () => {
      if (!stream.destroyed) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    });
  }

  onStreamClosed(premature: boolean): void {
    if (premature && this.resets.onPrematureReset()) {
      // Rapid reset (CVE-2023-44487): most streams are cancelled by the client; Envoy closes such connections.
      if (this.ctx.httpStats !== undefined) this.ctx.stats.inc(this.ctx.httpStats + H.downstream_cx_protocol_error);
      this.session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
      this.session.destroy();
      return;
    }
    if (isDraining(this.ctx.listenerName)) this.closeIfIdle();
  }

  /** Drain: GOAWAY now (no new streams); the session closes once the streams in flight finish. */
  closeIfIdle(): void {
    if (this.closing || this.session.destroyed) return;
    this.closing = true;
    this.session.close();
  }

  private onClose(): void {
    untrackConnection(this.ctx.listenerName, this);
    if (this.ctx.httpStats !== undefined) this.ctx.stats.dec(this.ctx.httpStats + H.downstream_cx_active);
  }
}
