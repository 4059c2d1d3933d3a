import { connect, type Socket } from 'node:net';
import { readerSocketOptions, setReader, trackReads } from '../../../listener/socket_reader.js';
import type { TcpProxyFilter } from '../../../config/model.js';
import { C, T } from '../../../stats/scopes.js';
import type { ConnectionContext } from '../../../listener/connection.js';
import { Flag } from '../http_connection_manager/stream_info.js';
import { TcpIstioStats } from './istio_stats.js';

/**
 * Envoy's tcp_proxy: picks a host of the chain's cluster and streams bytes both ways with
 * backpressure. Half-close is carried across (a FIN from one side ends the other side's
 * writes, and the connection closes when both directions are done); a reset on one side
 * resets the other. Counters are added once per connection, at close.
 */
export function tcpProxy(downstream: Socket, cfg: TcpProxyFilter, ctx: ConnectionContext, peeked?: Buffer): void {
  const { stats, statIndex } = ctx.worker;
  const tcpBase = statIndex.tcp[cfg.statPrefix];
  const cluster = ctx.worker.clusters.get(cfg.cluster);
  const cBase = statIndex.clusters[cfg.cluster];
  if (tcpBase !== undefined) stats.inc(tcpBase + T.downstream_cx_total);
  const host = cluster?.chooseHost(ctx.originalDst);
  const istio = TcpIstioStats.for(ctx, cfg.cluster);
  if (!cluster || !host) {
    if (cBase !== undefined) stats.inc(cBase + C.upstream_cx_none_healthy);
    else if (tcpBase !== undefined) stats.inc(tcpBase + T.downstream_cx_no_route);
    istio?.closed(0, peeked?.length ?? 0, cluster ? Flag.UH : Flag.NC);
    downstream.destroy();
    return;
  }
  const connectTimeoutMs = cluster.config.connectTimeoutMs;
  const upstream = trackReads(
    connect({
      host: host.address,
      port: host.port,
      localAddress: cluster.config.upstreamBindAddress,
      allowHalfOpen: true,
      noDelay: true,
      ...readerSocketOptions(),
    }),
  );
  // Until the upstream answers, the client's bytes are kept (socket_reader pauses a flood).
  setReader(downstream, undefined);
  stats.inc(cBase + C.upstream_cx_total);
  stats.inc(cBase + C.upstream_cx_active);
  let connected = false;
  const connectTimer = setTimeout(() => {
    stats.inc(cBase + C.upstream_cx_connect_timeout);
    upstream.destroy();
  }, connectTimeoutMs);

  upstream.once('connect', () => {
    connected = true;
    clearTimeout(connectTimer);
    istio?.connected();
    if (downstream.destroyed) {
      upstream.destroy();
      return;
    }
    if (peeked) upstream.write(peeked);
    relay(downstream, upstream, ctx, tcpBase);
    relay(upstream, downstream, ctx, tcpBase);
    if (cfg.idleTimeoutMs > 0) {
      // Node resets a socket's timer on reads and writes, so the downstream timer sees both directions.
      downstream.setTimeout(cfg.idleTimeoutMs, () => {
        if (tcpBase !== undefined) stats.inc(tcpBase + T.idle_timeout);
        downstream.destroy();
        upstream.destroy();
      });
    }
  });
  upstream.on('error', () => {
    if (!connected) stats.inc(cBase + C.upstream_cx_connect_fail);
  });
  upstream.once('close', () => {
    clearTimeout(connectTimer);
    stats.dec(cBase + C.upstream_cx_active);
    stats.inc(cBase + C.upstream_cx_destroy);
    stats.add(cBase + C.upstream_cx_tx_bytes_total, upstream.bytesWritten);
    stats.add(cBase + C.upstream_cx_rx_bytes_total, upstream.bytesRead);
    if (!connected || upstream.errored) downstream.destroy();
    else if (!downstream.writableEnded) downstream.end();
  });
  downstream.on('error', () => upstream.destroy());
  downstream.once('close', () => {
    istio?.closed(downstream.bytesWritten, downstream.bytesRead, 0);
    if (tcpBase !== undefined) {
      stats.add(tcpBase + T.downstream_cx_rx_bytes_total, downstream.bytesRead);
      stats.add(tcpBase + T.downstream_cx_tx_bytes_total, downstream.bytesWritten);
    }
    if (!upstream.destroyed && (downstream.errored || !connected)) upstream.destroy();
  });
}

/** One direction: bytes from `from` to `to`, pausing `from` while `to` is full; FIN carried across. */
function relay(from: Socket, to: Socket, ctx: ConnectionContext, tcpBase: number | undefined): void {
  const { stats } = ctx.worker;
  setReader(from, (chunk) => {
    // A copy: the read buffer is reused once this returns.
    if (!to.write(Buffer.from(chunk))) {
      from.pause();
      if (tcpBase !== undefined) stats.inc(tcpBase + T.downstream_flow_control_paused_reading_total);
    }
  });
  to.on('drain', () => {
    if (from.isPaused()) {
      from.resume();
      if (tcpBase !== undefined) stats.inc(tcpBase + T.downstream_flow_control_resumed_reading_total);
    }
  });
  // A FIN that arrived before the relay started has already emitted 'end' when nothing was
  // buffered (net.Socket reads EOF eagerly): carry it across now or it is lost.
  if (from.readableEnded) to.end();
  else from.once('end', () => to.end());
}
