import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertCluster } from '../../src/xds/convert/cluster.js';
import { convertListener } from '../../src/xds/convert/listener.js';
import { ConversionError, ConversionReport } from '../../src/xds/convert/report.js';
import { convertRouteConfiguration } from '../../src/xds/convert/route.js';
import { convertNameTable } from '../../src/xds/convert/name_table.js';
import { anyFromEnvoyJson } from '../../src/xds/proto_json.js';
import { decode, encode } from '../../src/xds/protos.js';
import { fixture, translateFiles } from './config_helpers.js';
import { compiledRbac } from '../../src/filters/http/rbac/engine.js';
import type { AuthzInput } from '../../src/filters/http/rbac/attributes.js';

/** istiod's own output (../shared/fixtures/istiod, see its README), converted the way the xDS client converts what it receives. */
const CANDIDATES = [process.env.LEGATE_ISTIOD_FIXTURES, join(process.cwd(), '..', 'shared', 'fixtures', 'istiod'), join(process.cwd(), '..', '..', 'shared', 'fixtures', 'istiod')];
const SHARED = CANDIDATES.find((p) => p && existsSync(join(p, 'sidecar-http.configdump.json')));
const load = (name: string): any => {
  if (!SHARED) throw new Error(`istiod fixtures not found (looked in ${CANDIDATES.filter(Boolean).join(', ')}); set LEGATE_ISTIOD_FIXTURES`);
  return JSON.parse(readFileSync(join(SHARED, name), 'utf8'));
};
const listeners = () => load('sidecar-listeners.configdump.yaml').configs[0].dynamic_listeners.map((d: any) => d.active_state.listener);

/** What a real stream delivers: the JSON encoded as protos and decoded again. */
function overTheWire(resources: any[]): any[] {
  const DR = 'envoy.service.discovery.v3.DiscoveryResponse';
  return decode(DR, encode(DR, { version_info: '1', resources: resources.map(anyFromEnvoyJson) })).resources;
}

test("istiod's sidecar listeners: all accepted; decoded protos convert exactly like the config_dump JSON", (t) => {
  const json = listeners();
  const wire = overTheWire(json);
  const report = new ConversionReport();
  json.forEach((l: any, i: number) => t.deepEqual(convertListener(wire[i], report), convertListener(l, new ConversionReport()), l.name));
  const byName = new Map(wire.map((l: any) => [l.name, convertListener(l, new ConversionReport()).listener]));
  const vo = byName.get('virtualOutbound')!;
  t.true(vo.useOriginalDst);
  t.deepEqual(vo.filterChains.map((c) => [c.name, c.filters[0].name === 'envoy.filters.network.tcp_proxy' && c.filters[0].cluster]), [
    ['virtualOutbound-blackhole', 'BlackHoleCluster'],
    ['virtualOutbound-catchall-tcp', 'PassthroughCluster'],
  ]);
  const vi = byName.get('virtualInbound')!;
  t.is(vi.trafficDirection, 'INBOUND');
  t.deepEqual(vi.listenerFilters, ['envoy.filters.listener.original_dst', 'envoy.filters.listener.tls_inspector', 'envoy.filters.listener.http_inspector']);
  const http80 = byName.get('0.0.0.0_80')!;
  t.false(http80.bindToPort);
  t.deepEqual(http80.filterChains[0].match, { transportProtocol: 'raw_buffer', applicationProtocols: ['http/1.1', 'h2c'] });
  const hcm = http80.filterChains[0].filters[0];
  t.is(hcm.name, 'envoy.filters.network.http_connection_manager');
  if (hcm.name === 'envoy.filters.network.http_connection_manager') {
    t.is(hcm.routeConfigName, '80');
    t.deepEqual(hcm.httpFilters, ['envoy.filters.http.fault', 'envoy.filters.http.cors', 'envoy.filters.http.router']);
  }
  t.is(http80.defaultFilterChain?.name, 'PassthroughFilterChain');
  // istiod writes listener_filters_timeout 0s (protocolDetectionTimeout's default): no limit.
  t.is(http80.listenerFiltersTimeoutMs, undefined);
  t.is(vi.listenerFiltersTimeoutMs, undefined);
  // Istio's extra filters are reported, once each, with where they were first seen.
  for (const key of ['network_filter.istio.stats', 'http_filter.istio.metadata_exchange', 'http_filter.envoy.filters.http.grpc_stats', 'http_filter.istio.alpn'])
    t.true(report.notes.has(key), key);
  // istiod's inbound mTLS (SDS `default` + `ROOTCA`) is the workload identity: terminated, not noted.
  t.false(report.notes.has('listener.tls'));
  const mtlsChain = vi.filterChains.find((c) => c.tls && c.match.applicationProtocols?.includes('istio-http/1.1'));
  t.deepEqual(mtlsChain?.tls, { mode: 'ISTIO_MUTUAL', matchSubjectAltNamePrefix: 'spiffe://cluster.local/', alpnProtocols: ['h2', 'http/1.1'] });
  // istiod's RBAC for Istio's docs `httpbin` policy (GET /info or POST /data, from sleep or namespace test, Google-issued JWT) is enforced.
  const inboundHttp = vi.filterChains.find((c) => c.name === 'virtualInbound-catchall-http')?.filters[0];
  const rbac = inboundHttp?.name === 'envoy.filters.network.http_connection_manager' ? inboundHttp.authorization?.rbac : undefined;
  t.truthy(rbac);
  const google = { principal: 'https://accounts.google.com/u', claims: { iss: 'https://accounts.google.com' }, audiences: [] };
  const input = (req: Partial<AuthzInput>): AuthzInput => ({ sourceIp: '10.0.0.1', remoteIp: '10.0.0.1', destinationIp: '10.0.0.2', destinationPort: 80, method: 'GET', path: '/info', headers: [], ...req });
  // The ALLOW filter alone; the fixture's CUSTOM policy (ext_authz, not implemented) then denies the same requests.
  t.deepEqual(rbac!.map((r) => r.action), ['ALLOW', 'DENY']);
  const decide = (req: Partial<AuthzInput>) => compiledRbac([rbac![0]]).evaluate(input(req)).allowed;
  t.is(
    compiledRbac(rbac!).evaluate(input({ peerPrincipal: 'spiffe://cluster.local/ns/default/sa/sleep', identity: google })).details,
    'rbac_access_denied_matched_policy[istio-ext-authz-ns[default]-policy[ext-authz]-rule[0]]',
  );
  t.true(decide({ peerPrincipal: 'spiffe://cluster.local/ns/default/sa/sleep', identity: google }));
  t.true(decide({ peerPrincipal: 'spiffe://cluster.local/ns/test/sa/any', identity: google, method: 'POST', path: '/data' }));
  t.false(decide({ peerPrincipal: 'spiffe://cluster.local/ns/default/sa/sleep' }), 'no JWT');
  t.false(decide({ peerPrincipal: 'spiffe://cluster.local/ns/prod/sa/sleep', identity: google }), 'other namespace');
  t.false(decide({ peerPrincipal: 'spiffe://cluster.local/ns/default/sa/sleep', identity: google, method: 'POST', path: '/info' }), 'POST /info');
  // HBONE / internal listeners cannot exist here: skipped with a note, not fatal.
  t.is(byName.get('connect_originate'), undefined);
  t.true(report.notes.has('listener.internal.connect_originate'));
  t.true(report.notes.has('listener.hbone.connect_terminate'));
});

test("listener_filters_timeout: Envoy's 15 s and close when absent; a set timeout with istiod's continue", (t) => {
  const http80 = listeners().find((l: any) => l.name === '0.0.0.0_80');
  const { listener_filters_timeout: _, continue_on_listener_filters_timeout: __, ...bare } = http80;
  const absent = convertListener(bare, new ConversionReport()).listener!;
  t.is(absent.listenerFiltersTimeoutMs, 15_000);
  t.is(absent.onListenerFiltersTimeout, 'close');
  const set = convertListener({ ...http80, listener_filters_timeout: '1.5s' }, new ConversionReport()).listener!;
  t.is(set.listenerFiltersTimeoutMs, 1500);
  t.is(set.onListenerFiltersTimeout, undefined, 'continue');
});

test("istiod's inbound chains: inline route configurations come with the listener", (t) => {
  const vi = convertListener(listeners().find((l: any) => l.name === 'virtualInbound'), new ConversionReport());
  t.true(vi.inlineRoutes.some((r) => r.name === 'inbound|80||' && r.virtualHosts[0].routes[0].route?.cluster === 'inbound|80||'));
  t.deepEqual(vi.rdsNames, []);
});

test("istiod's gateway routes and subset cluster: converted like Legate's own translation of the same Istio YAML", (t) => {
  const dump = load('sidecar-http.configdump.json');
  const [rc] = overTheWire([dump.configs[0].dynamic_route_configs[0].route_config]);
  const [cl] = overTheWire([dump.configs[1].dynamic_active_clusters[0].cluster]);
  const ours = translateFiles([fixture('bookinfo')], { role: 'router', labels: { istio: 'ingressgateway' } });
  const fromXds = convertRouteConfiguration(rc, new ConversionReport());
  const fromYaml = ours.routes.find((r) => r.name === 'http.8080')!;
  const strip = (r: any) => ({ match: r.match, route: r.route, operation: r.operation, istioConfig: r.istioConfig });
  t.deepEqual(fromXds.virtualHosts[0].routes.map(strip), fromYaml.virtualHosts[0].routes.map(strip));
  const c = convertCluster(cl, new ConversionReport());
  const yaml = translateFiles([fixture('bookinfo')]).clusters.find((x) => x.name === c.cluster.name)!;
  t.is(c.edsName, c.cluster.name);
  for (const k of ['type', 'lbPolicy', 'connectTimeoutMs', 'circuitBreakers', 'istioConfig'] as const) t.deepEqual(c.cluster[k], yaml[k], k);
  t.deepEqual(c.cluster.service, { host: 'productpage.default.svc.cluster.local', namespace: 'default', port: 9080, subset: 'v1' });
});

test('what would change routing is rejected: unknown terminal filters, source matches, unknown non-optional HTTP filters', (t) => {
  const base = listeners().find((l: any) => l.name === '0.0.0.0_80');
  const withChain = (patch: (fc: any) => void) => {
    const l = structuredClone(base);
    patch(l.filter_chains[0]);
    return l;
  };
  const fails = (l: any, re: RegExp) => t.throws(() => convertListener(l, new ConversionReport()), { instanceOf: ConversionError, message: re });
  fails(withChain((fc) => (fc.filter_chain_match.source_prefix_ranges = [{ address_prefix: '10.0.0.0', prefix_len: 8 }])), /source_prefix_ranges/);
  fails(withChain((fc) => fc.filters[0].typed_config.http_filters.splice(0, 0, { name: 'envoy.filters.http.lua', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua' } })), /envoy.filters.http.lua/);
  fails(withChain((fc) => (fc.filters = [{ name: 'envoy.filters.network.redis_proxy', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy' } }])), /redis_proxy/);
  // …but an optional one is only noted, as Envoy does.
  const report = new ConversionReport();
  convertListener(withChain((fc) => fc.filters[0].typed_config.http_filters.splice(0, 0, { name: 'x.custom', is_optional: true })), report);
  t.true(report.notes.has('http_filter.x.custom'));
  t.throws(() => convertRouteConfiguration({ name: 'r', virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/', grpc: {} }, route: { cluster: 'c' } }] }] }, new ConversionReport()), { message: /grpc/ });
  t.throws(() => convertCluster({ name: 'agg', cluster_type: { name: 'envoy.clusters.aggregate' } }, new ConversionReport()), { message: /aggregate/ });
});

test("the server header: server_name (Envoy's envoy when absent, istio-envoy inbound), server_header_transformation checked", (t) => {
  const hcmOf = (l: any, chain = 0) => convertListener(l, new ConversionReport()).listener!.filterChains[chain]!.filters[0];
  const http80 = listeners().find((l: any) => l.name === '0.0.0.0_80');
  t.like(hcmOf(overTheWire([http80])[0]), { serverName: 'envoy', serverHeaderTransformation: 'OVERWRITE' }, 'istiod sets none outbound');
  const vi = overTheWire([listeners().find((l: any) => l.name === 'virtualInbound')])[0];
  const catchall = vi.filter_chains.findIndex((c: any) => c.name === 'virtualInbound-catchall-http');
  t.like(hcmOf(vi, catchall), { serverName: 'istio-envoy' });
  const patched = (patch: Record<string, unknown>) => {
    const l = structuredClone(http80);
    Object.assign(l.filter_chains[0].filters[0].typed_config, patch);
    return l;
  };
  t.like(hcmOf(patched({ server_name: 'edge', server_header_transformation: 'APPEND_IF_ABSENT' })), { serverName: 'edge', serverHeaderTransformation: 'APPEND_IF_ABSENT' });
  t.throws(() => hcmOf(patched({ server_header_transformation: 'REPLACE' })), { instanceOf: ConversionError, message: /server_header_transformation/ });
  t.throws(() => hcmOf(patched({ server_name: 'a\r\nx-injected: 1' })), { instanceOf: ConversionError, message: /server_name/ });
});

test("NDS: Istio's name table, alt hosts answering with the same addresses", (t) => {
  const [nt] = overTheWire([{ '@type': 'type.googleapis.com/istio.networking.nds.v1.NameTable', table: { 'Reviews.Default.svc.cluster.local.': { ips: ['10.0.0.7'], registry: 'Kubernetes', shortname: 'reviews', namespace: 'default', alt_hosts: ['reviews.default'] }, empty: { ips: [] } } }]);
  t.deepEqual(convertNameTable(nt), {
    'reviews.default.svc.cluster.local': { ips: ['10.0.0.7'], namespace: 'default' },
    'reviews.default': { ips: ['10.0.0.7'], namespace: 'default' },
  });
});
