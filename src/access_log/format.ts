import { formatFlags, type StreamInfo } from '../filters/network/http_connection_manager/stream_info.js';

const dash = (v: string | number | undefined) => (v === undefined || v === '' ? '-' : String(v));
/** Envoy's %UPSTREAM_TRANSPORT_FAILURE_REASON% has its spaces as underscores. */
const failureReason = (v: string | undefined) => (v ? v.replace(/ /g, '_') : undefined);

/** Istio's default access log line (MeshConfig accessLogEncoding TEXT), field for field. */
export function formatText(i: StreamInfo): string {
  return (
    `[${new Date(i.startTime).toISOString()}] "${i.method} ${i.path} ${i.protocol}" ${i.responseCode} ${formatFlags(i.flags)} ${i.details} - ` +
    `"${dash(failureReason(i.upstreamTransportFailureReason))}" ${i.bytesReceived} ${i.bytesSent} ${i.durationMs()} ${dash(i.upstreamServiceTimeMs)} ` +
    `"${dash(i.forwardedFor)}" "${dash(i.userAgent)}" "${dash(i.requestId)}" "${dash(i.authority)}" "${dash(i.upstreamHost)}" ` +
    `${dash(i.upstreamCluster)} ${dash(i.upstreamLocalAddress)} ${i.downstreamLocal} ${i.downstreamRemote} ${dash(i.tls?.sni)} ${dash(i.routeName)}\n`
  );
}

/** Istio's default JSON access log (accessLogEncoding JSON): the same fields, Istio's key names. */
export function formatJson(i: StreamInfo): string {
  const v = (x: string | number | undefined) => (x === undefined ? null : x);
  return (
    JSON.stringify({
      start_time: new Date(i.startTime).toISOString(),
      method: i.method,
      path: i.path,
      protocol: i.protocol,
      response_code: i.responseCode,
      response_flags: formatFlags(i.flags),
      response_code_details: i.details,
      connection_termination_details: null,
      upstream_transport_failure_reason: v(failureReason(i.upstreamTransportFailureReason)),
      bytes_received: i.bytesReceived,
      bytes_sent: i.bytesSent,
      duration: i.durationMs(),
      upstream_service_time: v(i.upstreamServiceTimeMs === undefined ? undefined : String(i.upstreamServiceTimeMs)),
      x_forwarded_for: v(i.forwardedFor),
      user_agent: v(i.userAgent),
      request_id: v(i.requestId),
      authority: v(i.authority),
      upstream_host: v(i.upstreamHost),
      upstream_cluster: v(i.upstreamCluster),
      upstream_local_address: v(i.upstreamLocalAddress),
      downstream_local_address: i.downstreamLocal,
      downstream_remote_address: i.downstreamRemote,
      requested_server_name: v(i.tls?.sni),
      route_name: v(i.routeName),
      // Envoy's %GRPC_STATUS% (its default CamelString form), for gRPC requests only.
      ...(i.grpc ? { grpc_status: grpcStatusName(i.grpcStatus) } : undefined),
      // Not in Istio's default JSON: Envoy's %DOWNSTREAM_PEER_URI_SAN%, added only on mTLS requests so plaintext lines keep Istio's keys exactly.
      ...(i.tls?.peerPrincipal ? { downstream_peer_uri_san: i.tls.peerPrincipal } : {}),
    }) + '\n'
  );
}

const GRPC_NAMES = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied', 'ResourceExhausted',
  'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated',
];

/** Envoy's %GRPC_STATUS% in its default CAMEL_STRING form; null when no status came back. */
function grpcStatusName(status: number | undefined): string | null {
  if (status === undefined) return null;
  return GRPC_NAMES[status] ?? String(status);
}
