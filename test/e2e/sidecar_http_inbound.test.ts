/**
 * End-to-end: inbound HTTP to the pod (issue 5 item 6). `virtualInbound` (15006) has Istio's
 * `virtualInbound-catchall-http` chain: http_inspector finds HTTP/1.1 and the HTTP connection
 * manager carries it to the app on 127.0.0.1 from 127.0.0.6 (Istio's inbound passthrough
 * source), with Envoy's headers, stats and access log. See test/e2e/README.md for the harness.
 */
import test from 'ava';
import { APP_UID, httpRequest, meshConfigMap, podWithHttp, report, serviceEntry, startHttpServer } from './harness/index.js';

const APP_PORT = 8081;

test('inbound HTTP goes through the connection manager to the app: from 127.0.0.6, keep-alive kept, body intact, Envoy headers', async (t) => {
  const env = await podWithHttp(t, {
    servers: {},
    config: () => [
      meshConfigMap(),
      // An HTTP service on the same port number changes nothing inbound: outbound listeners only.
      serviceEntry({ name: 'other', hosts: ['other.example.internal'], addresses: ['240.240.8.10'], ports: [{ number: APP_PORT, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: '240.240.8.11' }] }),
    ],
  });
  const { pod, remote } = env;
  // The app listens on loopback only, as uid 1000: reachable from outside only through the proxy.
  const app = await startHttpServer(pod.ns, APP_PORT, { uid: APP_UID, host: '127.0.0.1', name: 'app' });

  const body = 'x'.repeat(100_000);
  const r = await httpRequest(remote.ns, `http://${pod.ip}:${APP_PORT}/in?x=1`, { uid: 0, args: ['--data-binary', body, '-H', 'x-from: remote'] });
  t.is(r.status, 200, r.stderr);
  const seen = report(r);
  t.is(seen.peer, '127.0.0.6', "Istio's inbound passthrough source address");
  t.is(seen.url, '/in?x=1');
  t.is(seen.bodyBytes, body.length);
  t.is(seen.headers['x-from'], 'remote');
  t.is(seen.headers.host, `${pod.ip}:${APP_PORT}`);
  // HTTP, not bytes: the connection manager adds what Envoy adds inbound.
  for (const h of ['x-request-id', 'x-forwarded-proto']) t.true(h in seen.headers, h);
  t.true('x-envoy-upstream-service-time' in r.headers);
  t.is(r.headers.server, 'istio-envoy');
  // Inbound, the route's tracing operation goes back to the caller (istiod's passthrough route
  // says ":0/*"); a caller's own overrides it and is not passed to the app.
  t.is(r.headers['x-envoy-decorator-operation'], ':0/*');
  const overridden = await httpRequest(remote.ns, `http://${pod.ip}:${APP_PORT}/op`, { uid: 0, args: ['-H', 'x-envoy-decorator-operation: caller-op'] });
  t.is(overridden.status, 200, overridden.stderr);
  t.false('x-envoy-decorator-operation' in report(overridden).headers);
  t.false('x-envoy-decorator-operation' in overridden.headers);

  // Two requests on one client connection stay one connection to the app.
  const two = await remote.ns.exec(['curl', '-sS', '--max-time', '5', '-o', '/dev/null', '-o', '/dev/null', '-w', '%{http_code} %{num_connects}\n', `http://${pod.ip}:${APP_PORT}/a`, `http://${pod.ip}:${APP_PORT}/b`]);
  t.deepEqual(two.stdout.trim().split('\n'), ['200 1', '200 0']);
  // Upstream connections are pooled: the app sees at most one per client connection.
  t.true(app.connections().length <= 3);
  t.deepEqual(app.requests().map((q) => q.url), ['/in?x=1', '/op', '/a', '/b']);

  t.is(await pod.waitForStat('http.inbound_0.0.0.0_15006.downstream_rq_2xx', 4), 4);
  t.is(await pod.stat('cluster.InboundPassthroughCluster.upstream_rq_2xx'), 4);
  t.is(await pod.stat('listener.0.0.0.0_15006.downstream_cx_total'), 3);
  // A local reply after the route matched names the operation too (no app on this port: 503 UF).
  const refused = await httpRequest(remote.ns, `http://${pod.ip}:${APP_PORT + 1}/`, { uid: 0 });
  t.is(refused.status, 503, refused.stderr);
  t.is(refused.headers['x-envoy-decorator-operation'], ':0/*');
  // What the translator emitted for 15006: the HTTP catch-all beside the TCP chains.
  const dump = JSON.parse(await pod.admin('/config_dump?resource=dynamic_listeners')) as { configs: { name: string; active_state: { listener: unknown } }[] };
  const inbound = dump.configs.find((c) => c.name === 'virtualInbound')?.active_state.listener as { filterChains: { filters: { name: string }[] }[]; defaultFilterChain?: { filters: { name: string }[] } };
  // PERMISSIVE (no PeerAuthentication): no default chain, plaintext TCP is a chain of its own.
  const filters = new Set([...inbound.filterChains, ...(inbound.defaultFilterChain ? [inbound.defaultFilterChain] : [])].flatMap((c) => c.filters.map((f) => f.name)));
  t.deepEqual([...filters].sort(), ['envoy.filters.network.http_connection_manager', 'envoy.filters.network.tcp_proxy']);
});
