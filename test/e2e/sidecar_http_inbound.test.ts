/**
 * End-to-end: inbound HTTP to the pod (issue 5 item 6) as the translator builds it today.
 * `virtualInbound` (15006) has only TCP filter chains — the loop guard, Sidecar `ingress`
 * ports, and the catch-all to InboundPassthroughCluster — so inbound HTTP is carried as TCP
 * to the app on 127.0.0.1 from 127.0.0.6 (Istio's inbound passthrough source), byte for
 * byte: no HTTP connection manager, no Envoy headers. See test/e2e/README.md for the harness.
 */
import test from 'ava';
import { APP_UID, httpRequest, meshConfigMap, podWithHttp, report, serviceEntry, startHttpServer } from './harness/index.js';

const APP_PORT = 8081;

test('inbound HTTP is TCP passthrough to the app: from 127.0.0.6, keep-alive kept, body intact, no Envoy headers', async (t) => {
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
  // TCP, not HTTP: nothing added on the way in or out.
  for (const h of ['x-request-id', 'x-forwarded-proto', 'x-envoy-attempt-count']) t.false(h in seen.headers, h);
  t.false('x-envoy-upstream-service-time' in r.headers);
  t.not(r.headers.server, 'legate');

  // Two requests on one client connection stay one connection to the app.
  const two = await remote.ns.exec(['curl', '-sS', '--max-time', '5', '-o', '/dev/null', '-o', '/dev/null', '-w', '%{http_code} %{num_connects}\n', `http://${pod.ip}:${APP_PORT}/a`, `http://${pod.ip}:${APP_PORT}/b`]);
  t.deepEqual(two.stdout.trim().split('\n'), ['200 1', '200 0']);
  t.is(app.connections().length, 2);
  t.deepEqual(app.requests().map((q) => q.url), ['/in?x=1', '/a', '/b']);

  t.is(await pod.waitForStat('cluster.InboundPassthroughCluster.upstream_cx_total', 2), 2);
  t.is(await pod.stat('listener.0.0.0.0_15006.downstream_cx_total'), 2);
  t.is(await pod.stat('tcp.InboundPassthroughCluster.downstream_cx_total'), 2);
  const httpStats = [...(await pod.stats()).keys()].filter((k) => k.startsWith('http.') && k.includes('inbound'));
  t.deepEqual(httpStats, [], 'no inbound HTTP connection manager exists');
  // What the translator emitted for 15006: TCP chains only (Istio would add HTTP chains per service port).
  const dump = JSON.parse(await pod.admin('/config_dump?resource=dynamic_listeners')) as { configs: { name: string; active_state: { listener: unknown } }[] };
  const inbound = dump.configs.find((c) => c.name === 'virtualInbound')?.active_state.listener as { filterChains: { filters: { name: string }[] }[]; defaultFilterChain: { filters: { name: string }[] } };
  const filters = new Set([...inbound.filterChains, inbound.defaultFilterChain].flatMap((c) => c.filters.map((f) => f.name)));
  t.deepEqual([...filters], ['envoy.filters.network.tcp_proxy']);
});
