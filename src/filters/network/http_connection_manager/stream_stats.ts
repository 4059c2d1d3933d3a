import { H } from '../../../stats/scopes.js';
import type { HttpContext } from './http_context.js';
import type { StreamInfo } from './stream_info.js';
import { grpcProtocol, IstioProtocol, MUTUAL_TLS } from '../../../stats/istio/series_table.js';
import { loopNow } from '../../../loop_clock.js';

/**
 * What a finished request adds to the histograms: Envoy's `http.<prefix>.downstream_rq_time`
 * and Istio's request count, duration and sizes. Times are whole milliseconds, as Envoy
 * records them. Everything here is numbers: the label set is found by number (series_table.ts).
 */
export function recordStreamEnd(ctx: HttpContext, info: StreamInfo): void {
  const ms = Math.floor(loopNow() - info.startHr);
  const stats = ctx.stats;
  if (ctx.httpStats !== undefined) stats.record(ctx.httpStats + H.downstream_rq_time, ms);
  const istio = ctx.istio;
  if (!istio || !stats.istio) return;
  const cluster = info.upstreamCluster;
  const peer = (cluster !== undefined ? istio.peers[cluster] : undefined) ?? istio.noCluster[ctx.reporter];
  // Istio's documented request/response sizes: the bodies.
  const mutualTls = ctx.reporter === 'destination' && info.tls?.peerPrincipal !== undefined;
  const protocol = (info.grpc ? grpcProtocol(info.grpcStatus) : IstioProtocol.Http) | (mutualTls ? MUTUAL_TLS : 0);
  stats.istio.recordHttp(peer, info.responseCode, info.flags, ms, info.bytesReceived, info.bytesSent, protocol);
}
