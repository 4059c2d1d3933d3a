import type { DownstreamTlsInfo } from '../../../listener/connection.js';
import { loopNow, wallClockAt } from '../../../loop_clock.js';
/**
 * What is known about one request for logs and stats, filled as it moves through the
 * pipeline. Response flags are Envoy's short codes, in Envoy's order of precedence when printed.
 */
export const enum Flag {
  NR = 1 << 0, // no route
  UH = 1 << 1, // no healthy upstream
  UF = 1 << 2, // upstream connection failure
  UO = 1 << 3, // upstream overflow (circuit breaker)
  UT = 1 << 4, // upstream request timeout
  UC = 1 << 5, // upstream connection termination
  URX = 1 << 6, // upstream retry limit exceeded
  DC = 1 << 7, // downstream connection termination
  DI = 1 << 8, // delay injected
  FI = 1 << 9, // fault injected
  NC = 1 << 10, // cluster not found
  DPE = 1 << 11, // downstream protocol error
  UPE = 1 << 12, // upstream protocol error
  LR = 1 << 13, // local reset
  SI = 1 << 14, // stream idle timeout
}

const FLAG_NAMES: [Flag, string][] = [
  [Flag.UH, 'UH'],
  [Flag.UF, 'UF'],
  [Flag.UO, 'UO'],
  [Flag.NR, 'NR'],
  [Flag.URX, 'URX'],
  [Flag.NC, 'NC'],
  [Flag.DI, 'DI'],
  [Flag.FI, 'FI'],
  [Flag.UT, 'UT'],
  [Flag.SI, 'SI'],
  [Flag.LR, 'LR'],
  [Flag.UC, 'UC'],
  [Flag.DC, 'DC'],
  [Flag.DPE, 'DPE'],
  [Flag.UPE, 'UPE'],
];

export function formatFlags(flags: number): string {
  if (flags === 0) return '-';
  let out = '';
  for (const [f, name] of FLAG_NAMES) if (flags & f) out = out ? `${out},${name}` : name;
  return out;
}

export class StreamInfo {
  /** When the request's first bytes were handled (loopNow() ms). */
  startHr = loopNow();
  method = '-';
  path = '-';
  protocol = 'HTTP/1.1';
  authority = '-';
  userAgent: string | undefined;
  requestId: string | undefined;
  forwardedFor: string | undefined;
  responseCode = 0;
  flags = 0;
  /** Envoy's %RESPONSE_CODE_DETAILS%: `via_upstream`, `route_not_found`, … */
  details = '-';
  bytesReceived = 0;
  bytesSent = 0;
  upstreamHost: string | undefined;
  upstreamCluster: string | undefined;
  upstreamLocalAddress: string | undefined;
  upstreamServiceTimeMs: number | undefined;
  upstreamTransportFailureReason: string | undefined;
  routeName: string | undefined;
  attempts = 0;
  /** A gRPC request (content-type application/grpc*): Istio's request_protocol "grpc". */
  grpc = false;
  /** The response's grpc-status (headers or trailers) for gRPC requests; Envoy's %GRPC_STATUS%. */
  grpcStatus: number | undefined;
  grpcMessage: string | undefined;
  /** The downstream TLS handshake's result (%REQUESTED_SERVER_NAME%, %DOWNSTREAM_PEER_URI_SAN%). */
  tls: DownstreamTlsInfo | undefined;

  constructor(
    readonly downstreamLocal: string,
    readonly downstreamRemote: string,
  ) {}

  /** Envoy's START_TIME (epoch ms). */
  get startTime(): number {
    return wallClockAt(this.startHr);
  }

  durationMs(): number {
    return Math.round(loopNow() - this.startHr);
  }
}
