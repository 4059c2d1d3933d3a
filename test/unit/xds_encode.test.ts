import test from 'ava';
import { UNLIMITED, type Cluster, type DownstreamTls, type Listener, type UpstreamTls, type RouteConfiguration } from '../../src/config/model.js';
import { convertCluster } from '../../src/xds/convert/cluster.js';
import { convertLoadAssignment } from '../../src/xds/convert/endpoint.js';
import { convertListener } from '../../src/xds/convert/listener.js';
import { convertNameTable } from '../../src/xds/convert/name_table.js';
import { ConversionReport } from '../../src/xds/convert/report.js';
import { convertRouteConfiguration } from '../../src/xds/convert/route.js';
import { encodeCluster } from '../../src/xds/encode/cluster.js';
import { encodeLoadAssignment } from '../../src/xds/encode/endpoint.js';
import { encodeListener } from '../../src/xds/encode/listener.js';
import { encodeNameTable } from '../../src/xds/encode/name_table.js';
import { encodeRouteConfiguration } from '../../src/xds/encode/route.js';
import { fromEnvoyJson } from '../../src/xds/proto_json.js';
import { nodeIdentity, nodeMessage } from '../../src/xds/node.js';
import { nodeScope } from '../../src/xds/server/node_scope.js';
import { fixture, translateFiles } from './config_helpers.js';
import { overTheWire, plain } from './xds_wire.js';

/** What the encoders document they do not carry (see src/xds/encode/*.ts). */
function withoutUncarried(c: Cluster): Cluster {
  const { tls, localityLbSetting: _l, slowStartWindowMs: _s, consistentHash: _h, originalDstOverrideAddress: _o, ...rest } = c;
  if (tls && tls.mode !== 'DISABLE') (rest as Cluster).tls = upstreamAsIstiodSendsIt(tls);
  rest.circuitBreakers ??= { maxConnections: UNLIMITED, maxPendingRequests: UNLIMITED, maxRequests: UNLIMITED, maxRetries: UNLIMITED, trackRemaining: false };
  if (rest.service) rest.service = { ...rest.service, location: undefined };
  if (rest.http2) rest.http2 = { ...rest.http2, upgrade: true };
  return plain(rest);
}

function withoutUncarriedRoutes(r: RouteConfiguration): RouteConfiguration {
  const out = plain(r);
  for (const vh of out.virtualHosts)
    for (const route of vh.routes) {
      if (route.redirect) delete route.redirect.derivePort;
      if (route.fault?.abort) delete route.fault.abort.http2Error;
      if (route.cors) delete route.cors.unmatchedPreflights;
    }
  return out;
}

/** What of a chain's TLS istiod's encoding carries: SIMPLE verifies no client, a credentialName replaces the files, TLS_AUTO is no limit. */
function asIstiodSendsIt(tls: DownstreamTls): DownstreamTls {
  const out = { ...tls };
  if (out.mode === 'SIMPLE') delete out.caCertificates, delete out.subjectAltNames;
  if (out.credentialName) delete out.serverCertificate, delete out.privateKey, delete out.caCertificates;
  if (out.minProtocolVersion === 'TLS_AUTO') delete out.minProtocolVersion;
  if (out.maxProtocolVersion === 'TLS_AUTO') delete out.maxProtocolVersion;
  return out;
}

/** What of a cluster's TLS istiod's encoding carries: SIMPLE presents no certificate, a credentialName replaces the files. */
function upstreamAsIstiodSendsIt(tls: UpstreamTls): UpstreamTls {
  const out = { ...tls };
  if (out.mode !== 'MUTUAL') delete out.clientCertificate, delete out.privateKey;
  if (out.credentialName) delete out.clientCertificate, delete out.privateKey, delete out.caCertificates;
  return out;
}

const ISTIO_DOCS_GATEWAY = { app: 'my-gateway-controller' };

const CASES = [
  { name: 'bookinfo sidecar', paths: [fixture('bookinfo')], opts: {} },
  { name: 'bookinfo router', paths: [fixture('bookinfo')], opts: { role: 'router' as const, namespace: 'istio-system', labels: { istio: 'ingressgateway' } } },
  { name: 'istio docs sidecar', paths: [fixture('istio-docs')], opts: { dnsCapture: true, dnsAutoAllocate: true } },
  { name: 'istio docs router', paths: [fixture('istio-docs')], opts: { role: 'router' as const, namespace: 'some-config-namespace', labels: ISTIO_DOCS_GATEWAY } },
  { name: 'authorization (sidecar: HTTP and TCP inbound chains)', paths: [fixture('bookinfo', 'services.yaml'), fixture('authz')], opts: {} },
  { name: 'ratings abort', paths: [fixture('bookinfo', 'services.yaml'), fixture('bookinfo', 'destination-rule-all.yaml'), fixture('ratings-abort')], opts: {} },
];

for (const c of CASES) {
  test(`round trip model → Envoy v3 protos → model: ${c.name}`, (t) => {
    const tr = translateFiles(c.paths, c.opts);
    t.deepEqual(tr.diagnostics.filter((d) => d.severity === 'error'), []);
    t.true(tr.clusters.length > 0 && tr.listeners.length > 0);
    if (c.name.startsWith('authorization')) t.true(/"authorization".*"jwtProviders"/s.test(JSON.stringify(tr.listeners)) && JSON.stringify(tr.listeners).includes('"rbac"'), 'policies on the inbound chains');
    const report = new ConversionReport();
    for (const cluster of tr.clusters) {
      const back = convertCluster(overTheWire('envoy.config.cluster.v3.Cluster', encodeCluster(cluster)), report);
      if (cluster.type === 'EDS') {
        t.is(back.edsName, cluster.name);
        const cla = overTheWire('envoy.config.endpoint.v3.ClusterLoadAssignment', encodeLoadAssignment(cluster.name, cluster.endpoints));
        back.cluster.endpoints = convertLoadAssignment(cla, report);
      }
      t.deepEqual(plain(back.cluster), withoutUncarried(cluster), cluster.name);
    }
    for (const listener of tr.listeners) {
      const back = convertListener(overTheWire('envoy.config.listener.v3.Listener', encodeListener(listener)), report);
      const expected: Listener = plain(listener);
      for (const fc of [...expected.filterChains, ...(expected.defaultFilterChain ? [expected.defaultFilterChain] : [])]) if (fc.tls) fc.tls = asIstiodSendsIt(fc.tls);
      t.deepEqual(plain(back.listener), expected, listener.name);
      t.deepEqual(back.inlineRoutes, []);
    }
    for (const rc of tr.routes) {
      const back = convertRouteConfiguration(overTheWire('envoy.config.route.v3.RouteConfiguration', encodeRouteConfiguration(rc)), report);
      t.deepEqual(plain(back), withoutUncarriedRoutes(rc), rc.name);
    }
    if (Object.keys(tr.nameTable).length > 0) {
      const nt = overTheWire('istio.networking.nds.v1.NameTable', { '@type': 'type.googleapis.com/istio.networking.nds.v1.NameTable', ...encodeNameTable(tr.nameTable) });
      t.deepEqual(plain(convertNameTable(nt)), plain(Object.fromEntries(Object.entries(tr.nameTable).map(([k, v]) => [k, { ips: v.ips, namespace: v.namespace }]))));
    }
  });
}

test('fractional percentages and CIDR ranges survive the trip exactly', (t) => {
  const json = encodeRouteConfiguration({
    name: 'r',
    validateClusters: false,
    virtualHosts: [{
      name: 'v', domains: ['*'], includeRequestAttemptCount: false,
      routes: [{
        match: { prefix: '/', caseSensitive: true, headers: [], queryParameters: [] },
        route: { cluster: 'c', timeoutMs: 0, requestMirrorPolicies: [{ cluster: 'm', percent: 0.5 }], hashPolicy: [] },
        fault: { delay: { fixedDelayMs: 1500, percent: 12.25 } },
        requestHeadersToAdd: [], requestHeadersToRemove: [], responseHeadersToAdd: [], responseHeadersToRemove: [],
      }],
    }],
  });
  const back = convertRouteConfiguration(fromEnvoyJson('envoy.config.route.v3.RouteConfiguration', json), new ConversionReport());
  const r = back.virtualHosts[0]!.routes[0]!;
  t.is(r.route!.requestMirrorPolicies[0]!.percent, 0.5);
  t.deepEqual(r.fault, { delay: { fixedDelayMs: 1500, percent: 12.25 } });
  const listener: Listener = {
    name: 'l', address: { address: '0.0.0.0', port: 80 }, trafficDirection: 'OUTBOUND', bindToPort: false, useOriginalDst: false,
    filterChains: [{ name: 'c', match: { prefixRanges: ['10.0.0.0/8', '10.1.2.3/32', '0.0.0.0/0', '::/0'] }, filters: [{ name: 'envoy.filters.network.tcp_proxy', statPrefix: 's', cluster: 'x', idleTimeoutMs: 0 }] }],
  };
  const chain = convertListener(overTheWire('envoy.config.listener.v3.Listener', encodeListener(listener)), new ConversionReport());
  t.deepEqual(chain.listener!.filterChains[0]!.match.prefixRanges, ['10.0.0.0/8', '10.1.2.3/32', '0.0.0.0/0', '::/0']);
});

test('listener_filters_timeout and what happens at it survive the trip', (t) => {
  const base: Listener = { name: 'l', address: { address: '0.0.0.0', port: 3306 }, trafficDirection: 'OUTBOUND', bindToPort: false, useOriginalDst: false, filterChains: [] };
  for (const l of [base, { ...base, listenerFiltersTimeoutMs: 1500 }, { ...base, listenerFiltersTimeoutMs: 250, onListenerFiltersTimeout: 'close' as const }]) {
    const back = convertListener(overTheWire('envoy.config.listener.v3.Listener', encodeListener(l)), new ConversionReport());
    t.deepEqual(plain(back.listener), plain(l));
  }
});

test("the node's scope: role and namespace from the id, NAMESPACE and LABELS metadata winning, gRPC's generator", (t) => {
  const sidecar = nodeScope(nodeMessage(nodeIdentity('sidecar', { POD_NAME: 'p', POD_NAMESPACE: 'shop', INSTANCE_IPS: '10.0.0.5' }, { labels: { b: '2', a: '1' }, dnsCapture: true })));
  t.like(sidecar, { id: 'sidecar~10.0.0.5~p.shop~shop.svc.cluster.local', role: 'sidecar', namespace: 'shop', labels: { a: '1', b: '2' }, dnsCapture: true, generator: 'envoy' });
  const same = nodeScope(nodeMessage(nodeIdentity('sidecar', { POD_NAME: 'q', POD_NAMESPACE: 'shop', INSTANCE_IPS: '10.0.0.6' }, { labels: { a: '1', b: '2' }, dnsCapture: true })));
  t.is(same.key, sidecar.key, 'two pods with the same scope share one translation');
  t.like(nodeScope({ id: 'router~10.0.0.7~gw.istio-system~istio-system.svc.cluster.local' }), { role: 'router', namespace: 'istio-system', generator: 'envoy' });
  t.like(nodeScope(fromEnvoyJson('envoy.config.core.v3.Node', { id: 'sidecar~1.2.3.4~c.x~x.svc.cluster.local', metadata: { GENERATOR: 'grpc', NAMESPACE: 'y' } })), { namespace: 'y', generator: 'grpc' });
});
