import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { connectUpstream, tlsErrorKind, tlsForHost } from '../../../tls/upstream.js';
import { readerSocketOptions, setReader, trackReads } from '../../../listener/socket_reader.js';
import { relayBytes } from '../../../listener/byte_relay.js';
import type { TcpProxyFilter } from '../../../config/model.js';
import { C, T } from '../../../stats/scopes.js';
import type { ConnectionContext } from '../../../listener/connection.js';
import { HS, sinkHostSlots } from '../../../cluster/host_shared.js';
import { LocalOrigin } from '../../../cluster/outlier/monitor.js';
import { isHashPolicy } from '../../../cluster/lb/policy.js';
import { xxHash64 } from '../../../cluster/lb/xxhash64.js';
import { breakerFor, CX } from '../../../cluster/circuit_breaker.js';
import { Flag } from '../http_connection_manager/stream_info.js';
import { TcpIstioStats } from './istio_stats.js';
import { IdleTimeout } from './idle_timeout.js';
import { guardedTimeout, runGuarded } from '../../../guarded_timer.js';

/**
 * Envoy's tcp_proxy: picks a host of the chain's cluster and streams bytes both ways with
 * backpressure. Half-close is carried across (a FIN from one side ends the other side's
 * writes, and the connection closes when both directions are done); a reset on one side
 * resets the other. Counters are added once per connection, at close. Connection results
 * feed outlier detection as Envoy's tcp_proxy does: a failed or timed-out connect is a
 * local-origin failure, a made one a (final) success. A connection over the cluster's
 * maxConnections (counted across workers) is closed at once (upstream_cx_overflow).
 */
export function tcpProxy(downstream: Socket, cfg: TcpProxyFilter, ctx: ConnectionContext, peeked?: Buffer): void {
  const { stats, statIndex } = ctx.worker;
  const tcpBase = statIndex.tcp[cfg.statPrefix];
  const cluster = ctx.worker.clusters.get(cfg.cluster);
  const cBase = statIndex.clusters[cfg.cluster];
  if (tcpBase !== undefined) stats.inc(tcpBase + T.downstream_cx_total);
  // Consistent hashing over TCP has only the connection to go on: the source IP.
  const hash = cluster && isHashPolicy(cluster.config) && downstream.remoteAddress ? xxHash64(downstream.remoteAddress) : undefined;
  const host = cluster?.chooseHost(ctx.originalDst, hash);
  const istio = TcpIstioStats.for(ctx, cfg.cluster);
  if (!cluster || !host) {
    if (cBase !== undefined) stats.inc(cBase + C.upstream_cx_none_healthy);
    else if (tcpBase !== undefined) stats.inc(tcpBase + T.downstream_cx_no_route);
    istio?.closed(0, peeked?.length ?? 0, cluster ? Flag.UH : Flag.NC);
    downstream.destroy();
    return;
  }
  const breaker = breakerFor(ctx.worker.breakers, statIndex.breakers?.[cfg.cluster], cluster.config);
  if (!breaker.tryAcquire(CX)) {
    if (cBase !== undefined) stats.inc(cBase + C.upstream_cx_overflow);
    istio?.closed(0, peeked?.length ?? 0, Flag.UO);
    downstream.destroy();
    return;
  }
  const connectTimeoutMs = cluster.config.connectTimeoutMs;
  const tls = tlsForHost(cluster.config.tls, host.labels);
  const up = connectUpstream(
    { host: host.address, port: host.port, localAddress: cluster.config.upstreamBindAddress, allowHalfOpen: true, noDelay: true, ...readerSocketOptions() },
    tls,
    'tcp',
  );
  if (typeof up === 'string') {
    // No certificate to originate TLS with: closed like a failed connect.
    breaker.release(CX);
    if (cBase !== undefined) stats.inc(cBase + C['ssl.connection_error']);
    istio?.closed(0, peeked?.length ?? 0, Flag.UF);
    downstream.destroy();
    return;
  }
  const upstream = trackReads(up.socket);
  // Until the upstream answers, the client's bytes are kept (socket_reader pauses a flood).
  setReader(downstream, undefined);
  // The connection is an active request of its host (LEAST_REQUEST) until the upstream side closes.
  host.activeRequests++;
  stats.inc(cBase + C.upstream_cx_total);
  stats.inc(cBase + C.upstream_cx_active);
  const hs = (ctx.worker.hostSlots ?? sinkHostSlots()).stats;
  const hBase = host.statBase;
  hs[hBase + HS.cx_total]++;
  hs[hBase + HS.cx_active]++;
  const outlier = cluster.outlier;
  let connected = false;
  let failed = false;
  let idle: IdleTimeout | undefined;
  const connectFailed = (result: LocalOrigin) => {
    if (failed) return;
    failed = true;
    hs[hBase + HS.cx_connect_fail]++;
    outlier?.putLocalOrigin(host.slot, result);
  };
  const closeBoth = () => {
    downstream.destroy();
    upstream.destroy();
  };
  const connectTimer = guardedTimeout(() => {
    stats.inc(cBase + C.upstream_cx_connect_timeout);
    connectFailed(LocalOrigin.Timeout);
    upstream.destroy();
  }, connectTimeoutMs, 'a tcp_proxy connect timeout', closeBoth);

  const onReady = () => {
    connected = true;
    clearTimeout(connectTimer);
    if (tls) stats.inc(cBase + C['ssl.handshake']);
    outlier?.putLocalOrigin(host.slot, LocalOrigin.ConnectSuccessFinal);
    istio?.connected();
    if (downstream.destroyed) {
      upstream.destroy();
      return;
    }
    if (peeked) upstream.write(peeked);
    const watch = cfg.idleTimeoutMs > 0
      ? new IdleTimeout(cfg.idleTimeoutMs, () => {
        if (tcpBase !== undefined) stats.inc(tcpBase + T.idle_timeout);
        closeBoth();
      }, closeBoth)
      : undefined;
    idle = watch; // stopped when the downstream closes
    // Flow control is counted as Envoy's tcp_proxy does, on the downstream side's stats.
    const events = {
      onChunk: watch && (() => watch.touch()),
      onPause: tcpBase === undefined ? undefined : () => stats.inc(tcpBase + T.downstream_flow_control_paused_reading_total),
      onResume: tcpBase === undefined ? undefined : () => stats.inc(tcpBase + T.downstream_flow_control_resumed_reading_total),
    };
    relayBytes(downstream, upstream, events);
    relayBytes(upstream, downstream, events);
  };
  // Outside a read: a throw here (a bug) closes this connection's two sockets, not the worker.
  upstream.once(up.readyEvent, () => runGuarded(onReady, 'a tcp_proxy connect\'s handling', closeBoth));
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (connected) return;
    if (tls) stats.inc(cBase + C[`ssl.${tlsErrorKind(err)}`]);
    stats.inc(cBase + C.upstream_cx_connect_fail);
    connectFailed(LocalOrigin.ConnectFailed);
  });
  upstream.once('close', () => runGuarded(() => {
    host.activeRequests--;
    clearTimeout(connectTimer);
    breaker.release(CX);
    stats.dec(cBase + C.upstream_cx_active);
    hs[hBase + HS.cx_active]--;
    stats.inc(cBase + C.upstream_cx_destroy);
    stats.add(cBase + C.upstream_cx_tx_bytes_total, upstream.bytesWritten);
    stats.add(cBase + C.upstream_cx_rx_bytes_total, upstream.bytesRead);
    if (!connected || upstream.errored) downstream.destroy();
    else if (!downstream.writableEnded) downstream.end();
  }, 'a tcp_proxy upstream close\'s handling', closeBoth));
  downstream.on('error', () => upstream.destroy());
  downstream.once('close', () => runGuarded(() => {
    idle?.stop();
    istio?.closed(downstream.bytesWritten, downstream.bytesRead, 0);
    if (tcpBase !== undefined) {
      stats.add(tcpBase + T.downstream_cx_rx_bytes_total, downstream.bytesRead);
      stats.add(tcpBase + T.downstream_cx_tx_bytes_total, downstream.bytesWritten);
    }
    if (!upstream.destroyed && (downstream.errored || !connected)) upstream.destroy();
  }, 'a tcp_proxy client close\'s handling', closeBoth));
}
