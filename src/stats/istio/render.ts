import { histogramLines, readBuckets } from '../buckets.js';
import { formatFlags } from '../../filters/network/http_connection_manager/stream_info.js';
import type { IstioPeers } from './peers.js';
import {
  DURATION, IstioProtocol, MUTUAL_TLS, PROTOCOL_KIND, readIstioSeries, REQUEST_BYTES, REQUESTS, RESPONSE_BYTES, TCP_CLOSED, TCP_OPENED, TCP_RECEIVED, TCP_SENT, type IstioShared,
} from './series_table.js';

/**
 * Istio's standard metrics as Envoy prints them for Istio's stats filter: the peer labels
 * (fixed per cluster), then request_protocol, response_code and grpc_response_status for HTTP,
 * then response_flags and connection_security_policy (`unknown` as a client, `none` as a
 * plaintext server, `mutual_tls` as a server whose client presented its identity), in the order Istio's filter adds them.
 */
export function renderIstioMetrics(shared: IstioShared, peers: IstioPeers): string {
  const http = { requests: '', duration: '', requestBytes: '', responseBytes: '' };
  const tcp = { opened: '', closed: '', sent: '', received: '' };
  for (const s of readIstioSeries(shared)) {
    const peer = peers.labelsOf(s.peer);
    if (peer === undefined) continue;
    const security = s.protocol & MUTUAL_TLS ? 'mutual_tls' : peer.startsWith('reporter="destination"') ? 'none' : 'unknown';
    const tail = `response_flags="${formatFlags(s.flags)}",connection_security_policy="${security}"`;
    const kind = s.protocol & PROTOCOL_KIND;
    if (kind !== IstioProtocol.Tcp) {
      const grpc = kind >= IstioProtocol.GrpcNoStatus;
      const grpcStatus = kind >= IstioProtocol.GrpcStatus ? String(kind - IstioProtocol.GrpcStatus) : '';
      const labels = `${peer},request_protocol="${grpc ? 'grpc' : 'http'}",response_code="${s.code}",grpc_response_status="${grpcStatus}",${tail}`;
      http.requests += `istio_requests_total{${labels}} ${s.read(REQUESTS)}\n`;
      http.duration += histogramLines('istio_request_duration_milliseconds', labels, readBuckets(s.read, DURATION));
      http.requestBytes += histogramLines('istio_request_bytes', labels, readBuckets(s.read, REQUEST_BYTES));
      http.responseBytes += histogramLines('istio_response_bytes', labels, readBuckets(s.read, RESPONSE_BYTES));
    } else {
      const labels = `${peer},request_protocol="tcp",${tail}`;
      tcp.opened += `istio_tcp_connections_opened_total{${labels}} ${s.read(TCP_OPENED)}\n`;
      tcp.closed += `istio_tcp_connections_closed_total{${labels}} ${s.read(TCP_CLOSED)}\n`;
      tcp.sent += `istio_tcp_sent_bytes_total{${labels}} ${s.read(TCP_SENT)}\n`;
      tcp.received += `istio_tcp_received_bytes_total{${labels}} ${s.read(TCP_RECEIVED)}\n`;
    }
  }
  const family = (name: string, kind: string, lines: string) => (lines ? `# TYPE ${name} ${kind}\n${lines}` : '');
  return (
    family('istio_requests_total', 'counter', http.requests) +
    family('istio_request_duration_milliseconds', 'histogram', http.duration) +
    family('istio_request_bytes', 'histogram', http.requestBytes) +
    family('istio_response_bytes', 'histogram', http.responseBytes) +
    family('istio_tcp_connections_opened_total', 'counter', tcp.opened) +
    family('istio_tcp_connections_closed_total', 'counter', tcp.closed) +
    family('istio_tcp_sent_bytes_total', 'counter', tcp.sent) +
    family('istio_tcp_received_bytes_total', 'counter', tcp.received)
  );
}
