import { encodeDownstreamTls } from './downstream_tls.js';
import { HTTP_CONNECTION_MANAGER, type FilterChain, type Listener, type ListenerFilterName, type NetworkFilter } from '../../config/model.js';
import { encodeNetworkRbac } from '../authorization.js';
import { encodeHttpConnectionManager } from './http_connection_manager.js';
import { cidrRange, duration, put, type Json } from './values.js';

const LISTENER_FILTER_TYPES: Record<ListenerFilterName, string> = {
  'envoy.filters.listener.original_dst': 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst',
  'envoy.filters.listener.tls_inspector': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
  'envoy.filters.listener.http_inspector': 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector',
};
const TCP_PROXY_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

/**
 * The model's Listener → an Envoy v3 Listener, the inverse of convert/listener.ts. Of a chain's
 * TLS settings only whether a client certificate is required goes out (the model's certificates
 * are file paths or credential names on the server's side, not the proxy's).
 */
export function encodeListener(l: Listener): Json {
  const out: Json = {
    '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener',
    name: l.name,
    address: { socket_address: { address: l.address.address, port_value: l.address.port } },
    traffic_direction: l.trafficDirection,
    bind_to_port: l.bindToPort,
    use_original_dst: l.useOriginalDst,
    filter_chains: l.filterChains.map(filterChain),
  };
  if (l.defaultFilterChain) out.default_filter_chain = filterChain(l.defaultFilterChain);
  out.listener_filters_timeout = duration(l.listenerFiltersTimeoutMs ?? 0);
  out.continue_on_listener_filters_timeout = l.onListenerFiltersTimeout !== 'close';
  if (l.listenerFilters) out.listener_filters = l.listenerFilters.map((name) => ({ name, typed_config: { '@type': LISTENER_FILTER_TYPES[name] } }));
  return out;
}

function filterChain(fc: FilterChain): Json {
  const m = fc.match;
  const match: Json = {};
  put(match, 'destination_port', m.destinationPort);
  if (m.prefixRanges?.length) match.prefix_ranges = m.prefixRanges.map(cidrRange);
  if (m.serverNames?.length) match.server_names = m.serverNames;
  put(match, 'transport_protocol', m.transportProtocol);
  if (m.applicationProtocols?.length) match.application_protocols = m.applicationProtocols;
  const out: Json = { name: fc.name, filter_chain_match: match, filters: fc.filters.flatMap(networkFilter) };
  if (fc.tls) out.transport_socket = encodeDownstreamTls(fc.tls);
  return out;
}

function networkFilter(f: NetworkFilter): Json[] {
  if (f.name === HTTP_CONNECTION_MANAGER) return [{ name: f.name, typed_config: encodeHttpConnectionManager(f) }];
  const tcp: Json = { '@type': TCP_PROXY_TYPE, stat_prefix: f.statPrefix, idle_timeout: duration(f.idleTimeoutMs) };
  // cluster and weighted_clusters are a oneof: the converter takes the heaviest as `cluster` again.
  if (f.weightedClusters?.length) tcp.weighted_clusters = { clusters: f.weightedClusters.map((w) => ({ name: w.name, weight: w.weight })) };
  else tcp.cluster = f.cluster;
  // Network RBAC goes before tcp_proxy, as in Envoy's chains.
  return [...(f.rbac ? [encodeNetworkRbac(f.rbac)] : []), { name: f.name, typed_config: tcp }];
}
