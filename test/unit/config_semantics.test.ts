import test from 'ava';
import type { Cluster, HttpConnectionManagerFilter, RouteConfiguration } from '../../src/config/model.js';
import { serviceEntry } from './config_helpers.js';
import { meshYaml, translateYaml } from '../support/translate.js';

const cluster = (cs: Cluster[], name: string) => cs.find((c) => c.name === name);
const vhost = (rcs: RouteConfiguration[], rc: string, name: string) => rcs.find((r) => r.name === rc)?.virtualHosts.find((v) => v.name === name);

test("Istio's defaults: LEAST_REQUEST, unlimited circuit breakers, 10 s connect timeout, default route with 2 retries and no timeout", (t) => {
  const out = translateYaml(serviceEntry('web', { vip: '10.0.0.1' }));
  const c = cluster(out.clusters, 'outbound|80||web.default.svc.cluster.local')!;
  t.is(c.lbPolicy, 'LEAST_REQUEST');
  t.is(c.connectTimeoutMs, 10_000);
  t.deepEqual(c.circuitBreakers, { maxConnections: 4294967295, maxPendingRequests: 4294967295, maxRequests: 4294967295, maxRetries: 4294967295, trackRemaining: true });
  const vh = vhost(out.routes, '80', 'web.default.svc.cluster.local:80')!;
  t.deepEqual(vh.domains, [
    'web.default.svc.cluster.local', 'web.default.svc.cluster.local:80', 'web', 'web:80', 'web.default', 'web.default:80', 'web.default.svc', 'web.default.svc:80', '10.0.0.1', '10.0.0.1:80',
  ]);
  const r = vh.routes[0];
  t.is(r.name, 'default');
  t.is(r.route!.cluster, 'outbound|80||web.default.svc.cluster.local');
  t.is(r.route!.timeoutMs, 0);
  t.deepEqual(r.route!.retryPolicy, {
    retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
    numRetries: 2,
    retriableStatusCodes: [503],
    retryHostPredicate: ['envoy.retry_host_predicates.previous_hosts'],
    hostSelectionRetryMaxAttempts: 5,
  });
  const l = out.listeners.find((x) => x.name === '0.0.0.0_80')!;
  const hcm = l.filterChains[0].filters[0] as HttpConnectionManagerFilter;
  t.is(hcm.routeConfigName, '80');
  t.is(l.defaultFilterChain?.name, 'PassthroughFilterChain');
  t.is(out.routes[0].virtualHosts.at(-1)?.name, 'allow_any');
});

test('short names resolve in the namespace of the resource that wrote them; the short form is a domain only from that namespace', (t) => {
  const yaml = serviceEntry('api', { ns: 'shop' }) + `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: shop}
spec:
  hosts: [api]
  http:
  - timeout: 5s
    route: [{destination: {host: api}}]
`;
  const inShop = translateYaml(yaml, { namespace: 'shop' });
  const vh = vhost(inShop.routes, '80', 'api.shop.svc.cluster.local:80')!;
  t.is(vh.routes[0].route!.timeoutMs, 5000);
  t.is(vh.routes[0].route!.cluster, 'outbound|80||api.shop.svc.cluster.local');
  t.true(vh.domains.includes('api'));
  const elsewhere = translateYaml(yaml, { namespace: 'default' });
  const vh2 = vhost(elsewhere.routes, '80', 'api.shop.svc.cluster.local:80')!;
  t.false(vh2.domains.includes('api'));
  t.true(vh2.domains.includes('api.shop'));
});

test('exportTo hides services, virtual services and destination rules from other namespaces', (t) => {
  const yaml = serviceEntry('private', { ns: 'team', exportTo: ['.'] }) + serviceEntry('public', { ns: 'team' });
  const mine = translateYaml(yaml, { namespace: 'team' });
  const theirs = translateYaml(yaml, { namespace: 'other' });
  t.truthy(cluster(mine.clusters, 'outbound|80||private.team.svc.cluster.local'));
  t.falsy(cluster(theirs.clusters, 'outbound|80||private.team.svc.cluster.local'));
  t.truthy(cluster(theirs.clusters, 'outbound|80||public.team.svc.cluster.local'));
  const dr = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: pub, namespace: team}
spec:
  host: public
  exportTo: ["."]
  trafficPolicy: {loadBalancer: {simple: RANDOM}}
`;
  t.is(cluster(translateYaml(yaml + dr, { namespace: 'team' }).clusters, 'outbound|80||public.team.svc.cluster.local')!.lbPolicy, 'RANDOM');
  t.is(cluster(translateYaml(yaml + dr, { namespace: 'other' }).clusters, 'outbound|80||public.team.svc.cluster.local')!.lbPolicy, 'LEAST_REQUEST');
});

test('DestinationRule host match: most specific wins; proxy namespace, then service namespace, then root namespace', (t) => {
  const svc = serviceEntry('pay', { ns: 'shop' });
  const dr = (name: string, ns: string, host: string, lb: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: ${ns}}
spec:
  host: "${host}"
  trafficPolicy: {loadBalancer: {simple: ${lb}}}
---
`;
  const c = (yaml: string, ns = 'default') => cluster(translateYaml(yaml, { namespace: ns }).clusters, 'outbound|80||pay.shop.svc.cluster.local')!.lbPolicy;
  t.is(c(svc + dr('wild', 'shop', '*.shop.svc.cluster.local', 'RANDOM')), 'RANDOM');
  t.is(c(svc + dr('wild', 'shop', '*.shop.svc.cluster.local', 'RANDOM') + dr('exact', 'shop', 'pay', 'ROUND_ROBIN')), 'ROUND_ROBIN');
  t.is(c(svc + dr('wider', 'shop', '*.svc.cluster.local', 'RANDOM') + dr('narrower', 'shop', '*.shop.svc.cluster.local', 'ROUND_ROBIN')), 'ROUND_ROBIN');
  t.is(c(svc + dr('root', 'istio-system', 'pay.shop.svc.cluster.local', 'RANDOM')), 'RANDOM');
  t.is(c(svc + dr('root', 'istio-system', 'pay.shop.svc.cluster.local', 'RANDOM') + dr('svc', 'shop', 'pay', 'ROUND_ROBIN')), 'ROUND_ROBIN');
  t.is(c(svc + dr('svc', 'shop', 'pay', 'ROUND_ROBIN') + dr('mine', 'default', 'pay.shop.svc.cluster.local', 'RANDOM')), 'RANDOM');
  t.is(c(svc + dr('third', 'elsewhere', 'pay.shop.svc.cluster.local', 'RANDOM')), 'LEAST_REQUEST', 'a third namespace is not consulted');
});

test('subsets: own clusters over matching endpoints; subset policy replaces the blocks it names; port-level settings per port', (t) => {
  const yaml = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: rv}
spec:
  hosts: [rv.default.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 80, name: http}, {number: 81, name: http-admin}]
  endpoints:
  - {address: 10.0.0.1, labels: {version: v1}}
  - {address: 10.0.0.2, labels: {version: v2}, ports: {http-admin: 9091}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: rv}
spec:
  host: rv
  trafficPolicy:
    loadBalancer: {simple: RANDOM}
    connectionPool: {tcp: {maxConnections: 50}}
    portLevelSettings:
    - port: {number: 81}
      connectionPool: {tcp: {maxConnections: 5}}
  subsets:
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      loadBalancer: {simple: ROUND_ROBIN}
      portLevelSettings:
      - port: {number: 81}
        outlierDetection: {consecutive5xxErrors: 2}
`;
  const cs = translateYaml(yaml).clusters;
  const v2on80 = cluster(cs, 'outbound|80|v2|rv.default.svc.cluster.local')!;
  t.deepEqual(v2on80.endpoints.map((e) => `${e.address}:${e.port}`), ['10.0.0.2:80']);
  t.is(v2on80.lbPolicy, 'ROUND_ROBIN');
  t.is(v2on80.circuitBreakers!.maxConnections, 50, 'connectionPool inherited from the rule');
  t.is(v2on80.istioConfig, '/apis/networking.istio.io/v1alpha3/namespaces/default/destination-rule/rv');
  const v2on81 = cluster(cs, 'outbound|81|v2|rv.default.svc.cluster.local')!;
  t.deepEqual(v2on81.endpoints.map((e) => `${e.address}:${e.port}`), ['10.0.0.2:9091']);
  t.is(v2on81.circuitBreakers!.maxConnections, 5, "the rule's port-level connectionPool");
  t.is(v2on81.outlierDetection!.consecutive5xx, 2);
  const all81 = cluster(cs, 'outbound|81||rv.default.svc.cluster.local')!;
  t.is(all81.lbPolicy, 'RANDOM');
  t.is(all81.circuitBreakers!.maxConnections, 5);
  t.is(all81.outlierDetection, undefined);
});

test('conflicts go to the oldest resource (creationTimestamp, then name) and are reported as warnings', (t) => {
  const vs = (name: string, created: string, timeout: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, creationTimestamp: "${created}"}
spec:
  hosts: [web]
  http: [{timeout: ${timeout}, route: [{destination: {host: web}}]}]
---
`;
  const out = translateYaml(serviceEntry('web') + vs('a-newer', '2024-05-01T00:00:00Z', '1s') + vs('z-older', '2024-01-01T00:00:00Z', '9s'));
  t.is(vhost(out.routes, '80', 'web.default.svc.cluster.local:80')!.routes[0].route!.timeoutMs, 9000);
  t.true(out.lines.some((l) => /warning: VirtualService\/default\/a-newer: spec\.hosts\[0\]: web\.default\.svc\.cluster\.local is already routed by the older VirtualService default\/z-older/.test(l)), out.lines.join('\n'));
  const sameTime = translateYaml(serviceEntry('web') + vs('b', '2024-01-01T00:00:00Z', '2s') + vs('a', '2024-01-01T00:00:00Z', '3s'));
  t.is(vhost(sameTime.routes, '80', 'web.default.svc.cluster.local:80')!.routes[0].route!.timeoutMs, 3000, 'ties broken by name');
  const dupHost = translateYaml(serviceEntry('web', { created: '2024-02-01T00:00:00Z' }) + serviceEntry('web', { created: '2024-01-01T00:00:00Z', ns: 'default' }).replace('name: web', 'name: web-old').replace('10.1.0.1', '10.9.9.9'));
  t.deepEqual(cluster(dupHost.clusters, 'outbound|80||web.default.svc.cluster.local')!.endpoints.map((e) => e.address), ['10.9.9.9']);
  t.true(dupHost.lines.some((l) => /ServiceEntry\/default\/web: spec\.hosts: host web\.default\.svc\.cluster\.local is already defined by ServiceEntry default\/web-old/.test(l)));
});

test('Sidecar egress hosts scope what the proxy sees; outboundTrafficPolicy REGISTRY_ONLY blocks the rest', (t) => {
  const yaml = serviceEntry('a', { ns: 'ns1' }) + serviceEntry('b', { ns: 'ns2' }) + serviceEntry('c', { ns: 'istio-system' }) + `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: istio-system}
spec:
  egress:
  - hosts: ["./*", "istio-system/*"]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: special, namespace: ns1}
spec:
  workloadSelector: {labels: {app: special}}
  egress:
  - hosts: ["ns2/b.ns2.svc.cluster.local"]
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
`;
  const names = (ns: string, labels?: Record<string, string>) =>
    translateYaml(yaml, { namespace: ns, labels }).clusters.filter((c) => c.name.startsWith('outbound|')).map((c) => c.service!.host).sort();
  t.deepEqual(names('ns1'), ['a.ns1.svc.cluster.local', 'c.istio-system.svc.cluster.local']);
  t.deepEqual(names('ns2'), ['b.ns2.svc.cluster.local', 'c.istio-system.svc.cluster.local']);
  t.deepEqual(names('ns1', { app: 'special' }), ['b.ns2.svc.cluster.local']);
  const special = translateYaml(yaml, { namespace: 'ns1', labels: { app: 'special' } });
  t.is(special.listeners.find((l) => l.name === 'virtualOutbound')!.defaultFilterChain!.name, 'BlackHoleCluster');
  t.deepEqual(special.routes[0].virtualHosts.at(-1), {
    name: 'block_all',
    domains: ['*'],
    routes: [{ name: 'block_all', match: { prefix: '/', caseSensitive: true, headers: [], queryParameters: [] }, directResponse: { status: 502 }, requestHeadersToAdd: [], requestHeadersToRemove: [], responseHeadersToAdd: [], responseHeadersToRemove: [] }],
    includeRequestAttemptCount: true,
  });
});

test('sourceLabels, sourceNamespace and match port select routes for this proxy and listener', (t) => {
  const yaml = serviceEntry('web') + `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web}
spec:
  hosts: [web]
  http:
  - match: [{sourceLabels: {app: canary}}]
    route: [{destination: {host: web}}]
    timeout: 1s
  - match: [{sourceNamespace: ops}]
    route: [{destination: {host: web}}]
    timeout: 2s
  - match: [{port: 8080}]
    route: [{destination: {host: web}}]
    timeout: 3s
  - route: [{destination: {host: web}}]
    timeout: 4s
`;
  const timeouts = (opts: object) => vhost(translateYaml(yaml, opts).routes, '80', 'web.default.svc.cluster.local:80')!.routes.map((r) => r.route!.timeoutMs);
  t.deepEqual(timeouts({}), [4000]);
  t.deepEqual(timeouts({ labels: { app: 'canary' } }), [1000, 4000]);
  t.deepEqual(timeouts({ namespace: 'ops' }), [2000, 4000]);
});

test('TCP services: <vip>_<port> listeners, VirtualService tcp routes, and the shared 0.0.0.0_<port> for services without VIPs', (t) => {
  const yaml = serviceEntry('db', { vip: '10.0.0.5', port: 5432, protocol: 'TCP' }) + serviceEntry('db2', { port: 5432, protocol: 'TCP' }) + serviceEntry('db3', { port: 5432, protocol: 'TCP', created: '2030-01-01T00:00:00Z' }) + `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db}
spec:
  hosts: [db]
  tcp:
  - route:
    - {destination: {host: db}, weight: 80}
    - {destination: {host: db2}, weight: 20}
`;
  const out = translateYaml(yaml);
  const vip = out.listeners.find((l) => l.name === '10.0.0.5_5432')!;
  const f = vip.filterChains[0].filters[0];
  t.is(f.name, 'envoy.filters.network.tcp_proxy');
  t.like(f, { cluster: 'outbound|5432||db.default.svc.cluster.local', weightedClusters: [{ name: 'outbound|5432||db.default.svc.cluster.local', weight: 80 }, { name: 'outbound|5432||db2.default.svc.cluster.local', weight: 20 }] });
  t.is(out.listeners.find((l) => l.name === '0.0.0.0_5432')!.defaultFilterChain!.name, 'outbound|5432||db2.default.svc.cluster.local');
  t.true(out.lines.some((l) => /ServiceEntry\/default\/db3: spec\.ports: port 5432 without addresses is already claimed by outbound\|5432\|\|db2/.test(l)));
});

test('gateways: listeners from servers, VirtualServices bound by gateway name, routes merged per host', (t) => {
  const yaml = serviceEntry('shop', { port: 8000 }) + `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ingress, namespace: gw}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: ["*/shop.example.com"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop-a, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  hosts: [shop.example.com]
  gateways: [gw/ingress]
  http: [{match: [{uri: {prefix: /a}}], route: [{destination: {host: shop}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop-b, creationTimestamp: "2024-02-01T00:00:00Z"}
spec:
  hosts: [shop.example.com]
  gateways: [gw/ingress]
  http: [{match: [{uri: {prefix: /b}}], route: [{destination: {host: shop}}]}]
`;
  const router = translateYaml(yaml, { role: 'router', labels: { istio: 'ingressgateway' } });
  t.deepEqual(router.listeners.map((l) => [l.name, l.bindToPort]), [['0.0.0.0_8080', true]]);
  const vh = vhost(router.routes, 'http.8080', 'shop.example.com:8080')!;
  t.deepEqual(vh.routes.map((r) => r.match.prefix), ['/a', '/b']);
  t.is(vh.routes[0].route!.cluster, 'outbound|8000||shop.default.svc.cluster.local');
  t.is(translateYaml(yaml, { role: 'router', labels: { istio: 'egressgateway' } }).listeners.length, 0, 'selector does not match');
  const sidecar = translateYaml(yaml, { role: 'sidecar' });
  t.falsy(sidecar.routes[0].virtualHosts.find((v) => v.name.startsWith('shop.example.com')), 'not bound to mesh');
});

test('HTTP ServiceEntry ports without VIPs still get a virtual host; TLS ports without VIPs are told apart by SNI', (t) => {
  const yaml = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext}
spec:
  hosts: [api.example.com, "*.cdn.example.com"]
  ports: [{number: 80, name: http, protocol: HTTP}, {number: 443, name: tls, protocol: TLS}]
  resolution: NONE
`;
  const out = translateYaml(yaml);
  t.truthy(vhost(out.routes, '80', 'api.example.com:80'));
  t.deepEqual(vhost(out.routes, '80', '*.cdn.example.com:80')!.domains, ['*.cdn.example.com', '*.cdn.example.com:80']);
  const l443 = out.listeners.find((l) => l.name === '0.0.0.0_443')!;
  t.deepEqual(l443.filterChains.map((c) => c.match.serverNames), [['api.example.com'], ['*.cdn.example.com']]);
  t.is(l443.defaultFilterChain!.name, 'PassthroughFilterChain');
  t.is(cluster(out.clusters, 'outbound|443||api.example.com')!.type, 'ORIGINAL_DST');
});

test('MeshConfig protocolDetectionTimeout: no limit by default; when set, on every listener, continuing at the timeout as istiod writes it', (t) => {
  const se = serviceEntry('web', { vip: '240.0.0.9' });
  const byDefault = translateYaml(se);
  t.true(byDefault.listeners.every((l) => l.listenerFiltersTimeoutMs === undefined));
  const set = translateYaml(meshYaml({}, 'protocolDetectionTimeout: 1.5s') + se);
  t.deepEqual(set.lines, []);
  t.true(set.listeners.length > 2);
  t.true(set.listeners.every((l) => l.listenerFiltersTimeoutMs === 1500 && l.onListenerFiltersTimeout === undefined));
  t.true(translateYaml(meshYaml({}, 'protocolDetectionTimeout: soon') + se).lines.some((l) => l.includes('protocolDetectionTimeout')), 'an invalid duration is reported');
});
