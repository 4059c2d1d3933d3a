import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Listener, Route } from '../../src/config/model.js';
import { fixture, translateFiles } from './config_helpers.js';
import { translateYaml } from '../support/translate.js';
import { convertCluster } from '../../src/xds/convert/cluster.js';
import { ConversionReport } from '../../src/xds/convert/report.js';
import { tlsForHost } from '../../src/tls/upstream.js';

/**
 * The model is meant to map naturally onto what istiod generates. These tests put Legate's
 * translation of the same Istio configuration next to istiod's real output (the shared
 * fixtures, captured from istio/istio test data) and compare what both express.
 */
// DESIGN.md: `../shared/fixtures/istiod/` next to the checkout (two levels up from a worktree).
const CANDIDATES = [process.env.LEGATE_ISTIOD_FIXTURES, join(process.cwd(), '..', 'shared', 'fixtures', 'istiod'), join(process.cwd(), '..', '..', 'shared', 'fixtures', 'istiod')];
const SHARED = CANDIDATES.find((p) => p && existsSync(join(p, 'sidecar-http.configdump.json')));

function load(name: string): any {
  if (!SHARED) throw new Error(`istiod fixtures not found (looked in ${CANDIDATES.filter(Boolean).join(', ')}); set LEGATE_ISTIOD_FIXTURES`);
  return JSON.parse(readFileSync(join(SHARED, name), 'utf8'));
}

const durationMs = (d: string) => Number(d.replace(/s$/, '')) * 1000;

/** istiod's Envoy route → the fields Legate's Route has. */
function fromEnvoy(r: any) {
  const m = r.match;
  return {
    path: m.path,
    prefix: m.prefix,
    caseSensitive: m.case_sensitive,
    cluster: r.route.cluster,
    timeoutMs: durationMs(r.route.timeout),
    retryOn: r.route.retry_policy.retry_on,
    numRetries: r.route.retry_policy.num_retries,
    retriableStatusCodes: r.route.retry_policy.retriable_status_codes,
    retryHostPredicate: r.route.retry_policy.retry_host_predicate.map((p: any) => p.name),
    hostSelectionRetryMaxAttempts: Number(r.route.retry_policy.host_selection_retry_max_attempts),
    operation: r.decorator.operation,
    istioConfig: r.metadata.filter_metadata.istio.config,
  };
}

function fromLegate(r: Route) {
  return {
    path: r.match.path,
    prefix: r.match.prefix,
    caseSensitive: r.match.caseSensitive,
    cluster: r.route!.cluster,
    timeoutMs: r.route!.timeoutMs,
    retryOn: r.route!.retryPolicy!.retryOn,
    numRetries: r.route!.retryPolicy!.numRetries,
    retriableStatusCodes: r.route!.retryPolicy!.retriableStatusCodes,
    retryHostPredicate: r.route!.retryPolicy!.retryHostPredicate,
    hostSelectionRetryMaxAttempts: r.route!.retryPolicy!.hostSelectionRetryMaxAttempts,
    operation: r.operation,
    istioConfig: r.istioConfig,
  };
}

test("bookinfo gateway routes: Legate's routes say what istiod's say", (t) => {
  const dump = load('sidecar-http.configdump.json');
  const rc = dump.configs[0].dynamic_route_configs[0].route_config;
  const envoyRoutes = rc.virtual_hosts[0].routes.map(fromEnvoy);
  const ours = translateFiles([fixture('bookinfo')], { role: 'router', labels: { istio: 'ingressgateway' } });
  const vh = ours.routes.find((r) => r.name === 'http.8080')!.virtualHosts[0];
  t.deepEqual(vh.domains, rc.virtual_hosts[0].domains);
  t.is(vh.includeRequestAttemptCount, rc.virtual_hosts[0].include_request_attempt_count);
  t.deepEqual(vh.routes.map(fromLegate), envoyRoutes);
  t.is(rc.name, 'http.8080', 'named after the gateway port, as Legate names it');
});

test("bookinfo subset cluster: Istio's defaults and metadata as istiod sets them", (t) => {
  const dump = load('sidecar-http.configdump.json');
  const envoy = dump.configs[1].dynamic_active_clusters[0].cluster;
  const ours = translateFiles([fixture('bookinfo')]).clusters.find((c) => c.name === envoy.name)!;
  t.truthy(ours, envoy.name);
  t.is(ours.type, envoy.type);
  t.is(ours.lbPolicy, envoy.lb_policy);
  t.is(ours.connectTimeoutMs, durationMs(envoy.connect_timeout));
  const th = envoy.circuit_breakers.thresholds[0];
  t.deepEqual(ours.circuitBreakers, { maxConnections: th.max_connections, maxPendingRequests: th.max_pending_requests, maxRequests: th.max_requests, maxRetries: th.max_retries, trackRemaining: th.track_remaining });
  const meta = envoy.metadata.filter_metadata.istio;
  t.is(ours.istioConfig, meta.config);
  t.is(ours.service!.subset, meta.subset);
  t.is(ours.service!.port, meta.default_original_port);
  t.is(ours.service!.host, meta.services[0].host);
});

test("istiod's auto mTLS (transport_socket_matches tlsMode-istio, SDS default/ROOTCA) converts to ISTIO_MUTUAL for meshed endpoints; the translator writes the same SNI", (t) => {
  const dump = load('sidecar-http.configdump.json');
  const envoy = dump.configs[1].dynamic_active_clusters[0].cluster;
  const { cluster } = convertCluster(envoy, new ConversionReport());
  t.deepEqual(cluster.tls, {
    mode: 'ISTIO_MUTUAL',
    autoMtls: true,
    sni: 'outbound_.9080_.v1_.productpage.default.svc.cluster.local',
    subjectAltNames: ['spiffe://cluster.local/ns/default/sa/bookinfo-productpage', 'spiffe://cluster.local/ns/default/sa/default'],
  });
  t.is(tlsForHost(cluster.tls, { 'security.istio.io/tlsMode': 'istio' }), cluster.tls);
  t.is(tlsForHost(cluster.tls, {}), undefined, 'tlsMode-disabled: plaintext');
  // Legate's own translation, given a meshed endpoint, picks Istio's SNI for the same cluster.
  const ours = translateYaml(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: productpage, namespace: default}
spec:
  hosts: [productpage.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 9080, name: http, protocol: HTTP}]
  endpoints: [{address: 10.0.0.9, labels: {version: v1, security.istio.io/tlsMode: istio}, serviceAccount: bookinfo-productpage}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: productpage, namespace: default}
spec: {host: productpage.default.svc.cluster.local, subsets: [{name: v1, labels: {version: v1}}]}
`).clusters.find((c) => c.name === envoy.name)!;
  t.deepEqual(ours.tls, { mode: 'ISTIO_MUTUAL', autoMtls: true, sni: 'outbound_.9080_.v1_.productpage.default.svc.cluster.local', subjectAltNames: ['spiffe://cluster.local/ns/default/sa/bookinfo-productpage'] });
});

function envoyListener(name: string): any {
  const dump = load('sidecar-listeners.configdump.yaml');
  for (const c of dump.configs) for (const l of c.dynamic_listeners ?? []) if (l.name === name) return l.active_state.listener;
  throw new Error(`no listener ${name} in the fixture`);
}

const tcpOf = (chain: any) => chain.filters.find((f: any) => f.name === 'envoy.filters.network.tcp_proxy')?.typed_config;

test('outbound HTTP listener 0.0.0.0_9080: HCM with RDS by port, http/1.1+h2c chain, passthrough default', (t) => {
  const envoy = envoyListener('0.0.0.0_9080');
  const ours: Listener = translateFiles([fixture('bookinfo')]).listeners.find((l) => l.name === '0.0.0.0_9080')!;
  t.is(ours.trafficDirection, envoy.traffic_direction);
  t.is(ours.bindToPort, envoy.bind_to_port);
  t.deepEqual(ours.address, { address: envoy.address.socket_address.address, port: envoy.address.socket_address.port_value });
  const chain = envoy.filter_chains[0];
  t.deepEqual(ours.filterChains[0].match, { transportProtocol: chain.filter_chain_match.transport_protocol, applicationProtocols: chain.filter_chain_match.application_protocols });
  const hcm = chain.filters.find((f: any) => f.name === 'envoy.filters.network.http_connection_manager').typed_config;
  t.like(ours.filterChains[0].filters[0], { name: 'envoy.filters.network.http_connection_manager', statPrefix: hcm.stat_prefix, routeConfigName: hcm.rds.route_config_name, useRemoteAddress: hcm.use_remote_address, serverName: hcm.server_name ?? 'envoy', normalizePath: hcm.normalize_path, upgradeTypes: hcm.upgrade_configs.map((u: any) => u.upgrade_type) });
  t.is(ours.defaultFilterChain!.name, envoy.default_filter_chain.name);
  t.like(ours.defaultFilterChain!.filters[0], { statPrefix: tcpOf(envoy.default_filter_chain).stat_prefix, cluster: tcpOf(envoy.default_filter_chain).cluster });
  t.deepEqual(ours.listenerFilters, envoy.listener_filters.map((f: any) => f.name));
});

test("the server header's name per HCM as istiod sets it: envoy's default outbound, istio-envoy inbound", (t) => {
  const hcmOf = (chain: any) => chain.filters.find((f: any) => f.name === 'envoy.filters.network.http_connection_manager').typed_config;
  const listeners = translateFiles([fixture('bookinfo')]).listeners;
  const outbound = listeners.find((l) => l.name === '0.0.0.0_9080')!.filterChains[0].filters[0];
  t.is(hcmOf(envoyListener('0.0.0.0_9080').filter_chains[0]).server_name, undefined, 'istiod leaves it unset outbound');
  t.like(outbound, { serverName: 'envoy', serverHeaderTransformation: 'OVERWRITE' });
  const envoyInbound = envoyListener('virtualInbound').filter_chains.find((c: any) => c.name === 'virtualInbound-catchall-http');
  const inbound = listeners.find((l) => l.name === 'virtualInbound')!.filterChains.find((c) => c.name === 'virtualInbound-catchall-http')!.filters[0];
  t.like(inbound, { serverName: hcmOf(envoyInbound).server_name });
});

test('outbound TCP listener <vip>_<port> and the capture listener, as istiod names them', (t) => {
  const dns = envoyListener('10.96.0.10_53');
  const out = translateYaml(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: kube-dns, namespace: kube-system}
spec:
  hosts: [kube-dns.kube-system.svc.cluster.local]
  addresses: [10.96.0.10]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 53, name: dns-tcp, protocol: TCP}]
  endpoints: [{address: 10.244.0.2}]
`);
  const ours = out.listeners.find((l) => l.name === dns.name)!;
  t.truthy(ours);
  t.is(ours.filterChains.length, dns.filter_chains.length);
  t.like(ours.filterChains[0].filters[0], { statPrefix: tcpOf(dns.filter_chains[0]).stat_prefix, cluster: tcpOf(dns.filter_chains[0]).cluster });
  t.is(ours.bindToPort, dns.bind_to_port);
  const vo = envoyListener('virtualOutbound');
  const ourVo = out.listeners.find((l) => l.name === 'virtualOutbound')!;
  t.is(ourVo.useOriginalDst, vo.use_original_dst);
  t.deepEqual(ourVo.filterChains[0].match, { destinationPort: vo.filter_chains[0].filter_chain_match.destination_port });
  t.is(ourVo.filterChains[0].name, vo.filter_chains[0].name);
  t.is((ourVo.filterChains[0].filters[0] as any).cluster, tcpOf(vo.filter_chains[0]).cluster);
});
