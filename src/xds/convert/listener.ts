import {
  HTTP_CONNECTION_MANAGER, TCP_PROXY, type RbacRules, type FilterChain, type FilterChainMatch, type Listener, type ListenerFilterName, type NetworkFilter, type RouteConfiguration,
} from '../../config/model.js';
import { decodeDownstreamTls } from './downstream_tls.js';
import { convertHttpConnectionManager } from './http_connection_manager.js';
import { decodeNetworkRbac, NETWORK_RBAC_FILTER } from '../authorization.js';
import { convertRbac } from './authorization.js';
import type { ConversionReport } from './report.js';
import { bool, cidr, durationMs, num, typeName, type Json } from './values.js';

const LISTENER_FILTERS: Record<string, ListenerFilterName> = {
  'envoy.extensions.filters.listener.original_dst.v3.OriginalDst': 'envoy.filters.listener.original_dst',
  'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector': 'envoy.filters.listener.tls_inspector',
  'envoy.extensions.filters.listener.http_inspector.v3.HttpInspector': 'envoy.filters.listener.http_inspector',
};

/**
 * Istio's network filters that do telemetry, peer metadata or authorization: the proxy does
 * not implement them, and leaving them out does not change where a connection goes.
 */
const IGNORED_NETWORK_FILTERS = new Set(['istio.stats', 'istio.metadata_exchange', 'istio_authn', 'envoy.filters.network.ext_authz']);

/** Fields of a filter_chain_match that, ignored, would let a chain match connections it should not. */
const UNSUPPORTED_MATCH = ['source_prefix_ranges', 'direct_source_prefix_ranges', 'source_ports', 'source_type', 'destination_port_range'];

export interface ConvertedListener {
  /** Undefined when the listener cannot exist here (an internal listener) and was noted instead. */
  listener?: Listener;
  /** Route configurations given inline by its HTTP connection managers. */
  inlineRoutes: RouteConfiguration[];
  /** RDS names its connection managers wait for (the listener warms until they arrive). */
  rdsNames: string[];
}

/** Envoy v3 Listener → the model's Listener. */
export function convertListener(l: Json, report: ConversionReport): ConvertedListener {
  const name: string = l.name;
  const where = `Listener ${name}`;
  if (!name) report.fail('Listener', 'no name');
  const out: ConvertedListener = { inlineRoutes: [], rdsNames: [] };
  const sa = l.address?.socket_address;
  if (!sa || l.internal_listener) {
    report.note(`listener.internal.${name}`, `${where}: internal listeners (no socket address, e.g. Istio's HBONE connect_originate) are not supported; skipped`);
    return out;
  }
  if (servesHbone(l)) {
    report.note(`listener.hbone.${name}`, `${where}: HBONE (HTTP CONNECT tunnels) is not supported; listener skipped`);
    return out;
  }
  const listenerFilters: ListenerFilterName[] = [];
  for (const f of l.listener_filters ?? []) {
    const known = LISTENER_FILTERS[typeName(f.typed_config) ?? ''] ?? Object.values(LISTENER_FILTERS).find((n) => n === f.name);
    if (!known) report.fail(where, `listener filter ${f.name} (${typeName(f.typed_config)}) is not supported`);
    listenerFilters.push(known);
  }
  const chain = (fc: Json, i: number) => filterChain(fc, report, `${where} filter chain ${fc.name ?? i}`, out);
  const listener: Listener = {
    name,
    address: { address: sa.address, port: num(sa.port_value) ?? 0 },
    trafficDirection: l.traffic_direction === 'INBOUND' ? 'INBOUND' : 'OUTBOUND',
    bindToPort: bool(l.bind_to_port) ?? true,
    useOriginalDst: bool(l.use_original_dst) ?? false,
    filterChains: (l.filter_chains ?? []).map(chain),
  };
  if (l.default_filter_chain) listener.defaultFilterChain = chain(l.default_filter_chain, -1);
  if (listenerFilters.length > 0) listener.listenerFilters = listenerFilters;
  // Envoy waits 15 s when the field is absent; istiod always writes it (0s: no limit).
  const filtersTimeout = durationMs(l.listener_filters_timeout) ?? 15_000;
  if (filtersTimeout > 0) {
    listener.listenerFiltersTimeoutMs = filtersTimeout;
    if (!bool(l.continue_on_listener_filters_timeout)) listener.onListenerFiltersTimeout = 'close';
  }
  out.listener = listener;
  return out;
}

/** Istio's `connect_terminate`: an HCM whose routes match CONNECT requests (HBONE, ambient mode). */
function servesHbone(l: Json): boolean {
  return (l.filter_chains ?? []).some((fc: Json) =>
    (fc.filters ?? []).some((f: Json) =>
      (f.typed_config?.route_config?.virtual_hosts ?? []).some((vh: Json) => (vh.routes ?? []).some((r: Json) => r.match?.connect_matcher !== undefined)),
    ),
  );
}

function filterChain(fc: Json, report: ConversionReport, at: string, acc: ConvertedListener): FilterChain {
  const m = fc.filter_chain_match ?? {};
  for (const k of UNSUPPORTED_MATCH) if (m[k] !== undefined && !(Array.isArray(m[k]) && m[k].length === 0)) report.fail(at, `filter_chain_match.${k} is not supported`);
  const match: FilterChainMatch = {};
  const port = num(m.destination_port);
  if (port !== undefined) match.destinationPort = port;
  if (m.prefix_ranges?.length) match.prefixRanges = m.prefix_ranges.map(cidr);
  if (m.server_names?.length) match.serverNames = m.server_names;
  if (m.transport_protocol) {
    if (m.transport_protocol !== 'raw_buffer' && m.transport_protocol !== 'tls') report.fail(at, `transport_protocol ${m.transport_protocol} is not supported`);
    match.transportProtocol = m.transport_protocol;
  }
  if (m.application_protocols?.length) match.applicationProtocols = m.application_protocols;
  const filters: NetworkFilter[] = [];
  let rbac: RbacRules[] | undefined;
  for (const f of fc.filters ?? []) {
    const type = typeName(f.typed_config);
    if (f.name === NETWORK_RBAC_FILTER && (rbac = decodeNetworkRbac(f))) continue;
    if (type === 'envoy.extensions.filters.network.rbac.v3.RBAC') {
      const rules = convertRbac(f.typed_config, report, at);
      if (rules.length) rbac = [...(rbac ?? []), ...rules];
      continue;
    }
    if (type === 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy' || (!type && f.name === TCP_PROXY)) filters.push({ ...tcpProxy(f.typed_config ?? {}, report, at), ...(rbac ? { rbac } : {}) } as NetworkFilter);
    else if (type === 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager' || (!type && f.name === HTTP_CONNECTION_MANAGER)) {
      const hcm = convertHttpConnectionManager(f.typed_config ?? {}, report, at);
      filters.push(hcm.filter);
      if (hcm.inlineRoute) acc.inlineRoutes.push(hcm.inlineRoute);
      if (hcm.rdsName) acc.rdsNames.push(hcm.rdsName);
    } else if (IGNORED_NETWORK_FILTERS.has(f.name)) report.note(`network_filter.${f.name}`, `network filter ${f.name} is not implemented and was ignored (first seen on ${at})`);
    else report.fail(at, `network filter ${f.name} (${type}) is not supported`);
  }
  const terminal = filters.filter((f) => f.name === TCP_PROXY || f.name === HTTP_CONNECTION_MANAGER);
  if (terminal.length !== 1) report.fail(at, `a filter chain needs exactly one tcp_proxy or http_connection_manager, found ${terminal.length}`);
  const out: FilterChain = { name: fc.name ?? '', match, filters };
  if (fc.transport_socket) {
    out.tls = decodeDownstreamTls(fc.transport_socket.typed_config, (what) => report.note(`listener.tls.${at}`, `${at}: ${what}; its TLS handshakes will fail`));
  }
  return out;
}

function tcpProxy(t: Json, report: ConversionReport, at: string): NetworkFilter {
  if (t.tunneling_config) report.fail(at, 'tcp_proxy tunneling_config (HBONE / CONNECT) is not supported');
  const weighted = (t.weighted_clusters?.clusters ?? []).map((w: Json) => ({ name: w.name, weight: num(w.weight) ?? 0 }));
  const cluster = t.cluster ?? [...weighted].sort((a, b) => b.weight - a.weight)[0]?.name;
  if (!cluster) report.fail(at, 'tcp_proxy without cluster or weighted_clusters');
  return {
    name: TCP_PROXY,
    statPrefix: t.stat_prefix ?? '',
    cluster,
    ...(weighted.length > 0 ? { weightedClusters: weighted } : {}),
    idleTimeoutMs: durationMs(t.idle_timeout) ?? 3_600_000,
  };
}
