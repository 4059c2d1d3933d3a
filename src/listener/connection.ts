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
import { TCP_PROXY, type Listener, type MeshSettings, type RouteConfiguration } from '../config/model.js';
import { tcpRbacAllows } from '../filters/network/rbac/filter.js';
import type { GlobalConnectionLimit } from './connection_limit.js';
import { inspectTls } from './tls_inspector.js';
import { terminateTls } from './tls_termination.js';
import type { ClientHello } from '../tls/client_hello.js';
import { performance } from 'node:perf_hooks';
import { runGuarded } from '../guarded_timer.js';

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
 *
 * Each step runs guarded (guarded_timer.ts): a throw while setting a connection up (a bug, or
 * input no test foresaw) closes that connection only. Unguarded, it would end the worker and
 * every connection on it (from a reuseport listener's accept), or leave the socket open and
 * unread (from a hand-off task, whose failure piscina reports to the main thread only).
 */
export function onConnection(socket: Socket, listenerName: string, originalDst: Destination, worker: WorkerState): void {
  setUp(socket, () => startConnection(socket, listenerName, originalDst, worker));
}

function setUp(socket: Socket, step: () => void): void {
  runGuarded(step, 'a new connection\'s setup', () => socket.destroy());
}

function startConnection(socket: Socket, listenerName: string, originalDst: Destination, worker: WorkerState): void {
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
  if (!selection.inspect && !selection.inspectTls) return runChain(socket, selection, ctx, undefined);
  const budget = new ListenerFiltersBudget(selection.listener);
  if (selection.inspectTls) {
    // tls_inspector first; a plaintext connection may then need http_inspector, which starts from the bytes already read.
    return inspectTls(socket, budget.remainingMs(), (hello, peeked, timedOut) => setUp(socket, () => {
      if (timedOut && budget.closesOnTimeout(socket, worker, lBase)) return;
      const next = worker.listeners.select(listenerName, originalDst, undefined, hello);
      if (!next) noMatch(socket, worker, lBase);
      else if (next.inspect && !timedOut) inspectThenRun(socket, ctx, lBase, budget, peeked);
      else if (next.inspect) runAfterInspection(socket, ctx, lBase, null, peeked, hello);
      else runChain(socket, next, ctx, undefined, peeked, hello);
    }));
  }
  inspectThenRun(socket, ctx, lBase, budget, undefined);
}

function inspectThenRun(socket: Socket, ctx: ConnectionContext, lBase: number | undefined, budget: ListenerFiltersBudget, initial: Buffer | undefined): void {
  inspectHttp(
    socket,
    budget.remainingMs(),
    (protocol, peeked, timedOut) => setUp(socket, () => {
      if (timedOut && budget.closesOnTimeout(socket, ctx.worker, lBase)) return;
      runAfterInspection(socket, ctx, lBase, protocol ?? null, peeked, initial ? null : undefined);
    }),
    initial,
  );
}

function runAfterInspection(
  socket: Socket,
  ctx: ConnectionContext,
  lBase: number | undefined,
  protocol: DetectedProtocol | null,
  peeked: Buffer | undefined,
  hello: ClientHello | null | undefined,
): void {
  const again = ctx.worker.listeners.select(ctx.listenerName, ctx.originalDst, protocol, hello);
  if (again) runChain(socket, again, ctx, protocol ?? undefined, peeked);
  else noMatch(socket, ctx.worker, lBase);
}

/**
 * Envoy's listener_filters_timeout: one time limit for tls_inspector and http_inspector together,
 * counted from the first. Istio leaves it off (MeshConfig protocolDetectionTimeout 0s), so a
 * client that says nothing waits as long as it likes; with a limit, the connection goes on to
 * its TCP chain (continue_on_listener_filters_timeout) or is closed.
 */
class ListenerFiltersBudget {
  private readonly deadline: number;
  constructor(private readonly listener: Listener) {
    const ms = listener.listenerFiltersTimeoutMs ?? 0;
    this.deadline = ms > 0 ? performance.now() + ms : 0;
  }

  /** For the next inspector: 0 when there is no limit, at least 1 ms otherwise. */
  remainingMs(): number {
    return this.deadline === 0 ? 0 : Math.max(1, Math.ceil(this.deadline - performance.now()));
  }

  /** At the timeout: true when the listener closes the connection (and counts it) rather than going on. */
  closesOnTimeout(socket: Socket, worker: WorkerState, lBase: number | undefined): boolean {
    if (this.listener.onListenerFiltersTimeout !== 'close') return false;
    if (lBase !== undefined) worker.stats.inc(lBase + L.downstream_pre_cx_timeout);
    socket.destroy();
    return true;
  }
}

function noMatch(socket: Socket, worker: WorkerState, lBase: number | undefined): void {
  if (lBase !== undefined) worker.stats.inc(lBase + L.no_filter_chain_match);
  socket.destroy();
}

/** `peeked`: bytes protocol detection already read; the filter starts from them (or the TLS handshake does). */
function runChain(socket: Socket, selection: Selection, ctx: ConnectionContext, protocol: DetectedProtocol, peeked?: Buffer, hello?: ClientHello | null): void {
  const tls = selection.chain.tls;
  // After termination the application protocol is the negotiated ALPN: h2 runs the HTTP/2 codec.
  if (tls) return terminateTls(socket, tls, hello, peeked, ctx, (decrypted) => setUp(decrypted, () => runFilter(decrypted, selection, ctx, decrypted.alpnProtocol === 'h2' ? 'h2c' : undefined)));
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
