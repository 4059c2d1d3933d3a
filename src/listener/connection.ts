import type { ClientCertificate } from '../tls/client_certificate.js';
import type { Socket } from 'node:net';
import type { StatIndex } from '../config/snapshot.js';
import type { ClusterTable } from '../cluster/thread_local_cluster.js';
import type { StatsWriter } from '../stats/store.js';
import type { HostSlots } from '../cluster/host_shared.js';
import type { CircuitBreakers } from '../cluster/circuit_breaker.js';
import { L } from '../stats/scopes.js';
import type { Destination, ListenerTable, Selection } from './listener_table.js';
import { inspectHttp, type DetectedProtocol } from './http_inspector.js';
import { httpConnectionManager } from '../filters/network/http_connection_manager/factory.js';
import { tcpProxy } from '../filters/network/tcp_proxy/filter.js';
import { TCP_PROXY, type MeshSettings, type RouteConfiguration } from '../config/model.js';
import { tcpRbacAllows } from '../filters/network/rbac/filter.js';
import type { GlobalConnectionLimit } from './connection_limit.js';
import { inspectTls } from './tls_inspector.js';
import { terminateTls } from './tls_termination.js';
import type { ClientHello } from '../tls/client_hello.js';

/** A worker's state for one snapshot: everything a new connection reads, built once per change. */
export interface WorkerState {
  version: number;
  listeners: ListenerTable;
  clusters: ClusterTable;
  /** Route configurations by name (the same objects across snapshots while unchanged). */
  routes: ReadonlyMap<string, RouteConfiguration>;
  statIndex: StatIndex;
  stats: StatsWriter;
  /** Per-host shared state (outlier counters, /clusters stats); absent in unit tests. */
  hostSlots?: HostSlots;
  /** This worker's handle on the shared circuit-breaker counts (absent in tests that wire none). */
  breakers?: CircuitBreakers;
  /** The process-wide downstream connection limit (absent: none). */
  connectionLimit?: GlobalConnectionLimit;
  mesh: MeshSettings;
  /**
   * The worker's newest state. A connection keeps the state it started with (its filter chain,
   * drains), but each new HTTP request routes with the newest routes and clusters, as Envoy
   * applies RDS and CDS updates to new streams on existing connections.
   */
  latest?: () => WorkerState;
}

/** What the downstream TLS handshake established (absent on plaintext connections). */
export interface DownstreamTlsInfo {
  /** The SNI the client sent (tls_inspector); also known on connections passed through without termination. */
  sni?: string;
  /** The negotiated ALPN protocol. */
  alpn?: string;
  /** The peer certificate's SPIFFE URI SAN (`spiffe://<trust-domain>/ns/<ns>/sa/<sa>`) when the client presented one (mTLS). */
  peerPrincipal?: string;
  /** The client certificate's facts for x-forwarded-client-cert (mTLS only). */
  clientCertificate?: ClientCertificate;
}

export interface ConnectionContext {
  worker: WorkerState;
  listenerName: string;
  originalDst: Destination;
  /** Set once a downstream TLS handshake completed (or SNI was read for passthrough). */
  tls?: DownstreamTlsInfo;
}

/**
 * A connection's pipeline once it is in a worker: filter-chain match on the original
 * destination, then the chain's network filter. The connection keeps the state it started
 * with even if a new snapshot arrives meanwhile.
 */
export function onConnection(socket: Socket, listenerName: string, originalDst: Destination, worker: WorkerState): void {
  const { stats, statIndex } = worker;
  const lBase = statIndex.listeners[listenerName];
  const limit = worker.connectionLimit;
  if (limit) {
    if (!limit.tryAcquire()) {
      if (lBase !== undefined) stats.inc(lBase + L.downstream_global_cx_overflow);
      socket.destroy();
      return;
    }
    socket.once('close', () => limit.release());
  }
  if (lBase !== undefined) {
    stats.inc(lBase + L.downstream_cx_total);
    stats.inc(lBase + L.downstream_cx_active);
    socket.once('close', () => {
      stats.dec(lBase + L.downstream_cx_active);
      stats.inc(lBase + L.downstream_cx_destroy);
    });
  }
  socket.setNoDelay(true);
  const selection = worker.listeners.select(listenerName, originalDst);
  if (!selection) return noMatch(socket, worker, lBase);
  const ctx: ConnectionContext = { worker, listenerName, originalDst };
  if (selection.inspectTls) {
    // tls_inspector first; a plaintext connection may then need http_inspector, which starts from the bytes already read.
    return inspectTls(socket, PROTOCOL_DETECTION_TIMEOUT_MS, (hello, peeked) => {
      const next = worker.listeners.select(listenerName, originalDst, undefined, hello);
      if (!next) noMatch(socket, worker, lBase);
      else if (next.inspect) inspectThenRun(socket, ctx, lBase, peeked);
      else runChain(socket, next, ctx, undefined, peeked, hello);
    });
  }
  if (!selection.inspect) return runChain(socket, selection, ctx, undefined);
  inspectThenRun(socket, ctx, lBase, undefined);
}

function inspectThenRun(socket: Socket, ctx: ConnectionContext, lBase: number | undefined, initial: Buffer | undefined): void {
  const { worker, listenerName, originalDst } = ctx;
  inspectHttp(
    socket,
    PROTOCOL_DETECTION_TIMEOUT_MS,
    (protocol, peeked) => {
      const again = worker.listeners.select(listenerName, originalDst, protocol ?? null, initial ? null : undefined);
      if (again) runChain(socket, again, ctx, protocol, peeked);
      else noMatch(socket, worker, lBase);
    },
    initial,
  );
}

/**
 * How long http_inspector waits for a client's first bytes before treating the connection as
 * TCP (a server-first protocol on a port with HTTP chains).
 */
const PROTOCOL_DETECTION_TIMEOUT_MS = 5000;

function noMatch(socket: Socket, worker: WorkerState, lBase: number | undefined): void {
  if (lBase !== undefined) worker.stats.inc(lBase + L.no_filter_chain_match);
  socket.destroy();
}

/** `peeked`: bytes protocol detection already read; the filter starts from them (or the TLS handshake does). */
function runChain(socket: Socket, selection: Selection, ctx: ConnectionContext, protocol: DetectedProtocol, peeked?: Buffer, hello?: ClientHello | null): void {
  const tls = selection.chain.tls;
  // After termination the application protocol is the negotiated ALPN: h2 runs the HTTP/2 codec.
  if (tls) return terminateTls(socket, tls, hello, peeked, ctx, (decrypted) => runFilter(decrypted, selection, ctx, decrypted.alpnProtocol === 'h2' ? 'h2c' : undefined));
  // TLS carried through untouched (passthrough): the SNI is still known.
  if (hello) ctx.tls = { sni: hello.sni };
  runFilter(socket, selection, ctx, protocol, peeked);
}

function runFilter(socket: Socket, selection: Selection, ctx: ConnectionContext, protocol: DetectedProtocol, peeked?: Buffer): void {
  const filter = selection.chain.filters[0];
  if (filter.name === TCP_PROXY) {
    if (filter.rbac && !tcpRbacAllows(socket, filter.rbac, ctx)) return;
    return tcpProxy(socket, filter, ctx, peeked);
  }
  httpConnectionManager(socket, filter, ctx, peeked, protocol === 'h2c');
}
