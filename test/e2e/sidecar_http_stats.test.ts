/**
 * End-to-end: the HTTP counters (issue 5) match the traffic real curl sent through the captured
 * sidecar, summed over two workers: `http.<stat_prefix>.*` for the connection manager and
 * `cluster.<name>.*` for the upstream (requests per attempt, response classes, retries), on
 * the admin port and on Prometheus. See test/e2e/README.md for the harness.
 */
import test from 'ava';
import { APP_UID, meshConfigMap, podWithHttp, PORTS, serviceEntry } from './harness/index.js';

const HOST = 'count.example.internal';
const VIP = '240.240.7.10';
const UPSTREAM = 8080;
const CLUSTER = `outbound|80||${HOST}`;
const HTTP = 'http.outbound_0.0.0.0_80';

test('counters: downstream and upstream request stats equal what was sent, over parallel connections and 2 workers', async (t) => {
  const env = await podWithHttp(t, {
    servers: { count: UPSTREAM },
    proxy: { concurrency: 2 },
    config: (r) => [
      meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' }),
      serviceEntry({
        name: 'count',
        hosts: [HOST],
        addresses: [VIP],
        ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
        endpoints: [{ address: r.ip, ports: { http: UPSTREAM } }],
      }),
    ],
  });
  const { pod, servers } = env;
  // 12 plain 200s, 4 that answer 503 once (Istio's default policy retries them to 200), 4 404s.
  const urls = [
    ...Array.from({ length: 12 }, (_, i) => `http://${VIP}/ok/${i}`),
    ...Array.from({ length: 4 }, (_, i) => `http://${VIP}/flaky/${i}?fail=1&key=k${i}`),
    ...Array.from({ length: 4 }, (_, i) => `http://${VIP}/missing/${i}?status=404`),
  ];
  // Several connections at once (curl --parallel), so both workers take some.
  const out = await pod.ns.exec(
    ['curl', '-sS', '--max-time', '20', '--parallel', '--parallel-max', '5', '-w', '%{http_code} %{num_connects}\n', ...urls.flatMap((u) => ['-o', '/dev/null', u])],
    { uid: APP_UID, timeoutMs: 30_000 },
  );
  const results = out.stdout.trim().split('\n').map((l) => l.split(' ').map(Number));
  t.is(results.length, 20);
  t.is(results.filter(([code]) => code === 200).length, 16);
  t.is(results.filter(([code]) => code === 404).length, 4);
  const connections = results.reduce((a, [, c]) => a + c, 0);
  t.true(connections >= 2, `curl opened ${connections} connections`);
  t.is(servers.count.requests().length, 24, 'every attempt reached the upstream');

  t.is(await pod.waitForStat(`${HTTP}.downstream_rq_completed`, 20), 20);
  t.is(await pod.waitForStat(`${HTTP}.downstream_cx_active`, (v) => v === 0), 0);
  const s = await pod.stats();
  const expect: [string, number][] = [
    [`${HTTP}.downstream_cx_total`, connections],
    [`${HTTP}.downstream_cx_http1_total`, connections],
    [`${HTTP}.downstream_cx_protocol_error`, 0],
    [`${HTTP}.downstream_rq_total`, 20],
    [`${HTTP}.downstream_rq_active`, 0],
    [`${HTTP}.downstream_rq_2xx`, 16],
    [`${HTTP}.downstream_rq_4xx`, 4],
    [`${HTTP}.downstream_rq_5xx`, 0],
    [`${HTTP}.no_route`, 0],
    [`cluster.${CLUSTER}.upstream_rq_total`, 24],
    [`cluster.${CLUSTER}.upstream_rq_2xx`, 16],
    [`cluster.${CLUSTER}.upstream_rq_4xx`, 4],
    [`cluster.${CLUSTER}.upstream_rq_5xx`, 0],
    [`cluster.${CLUSTER}.upstream_rq_retry`, 4],
    [`cluster.${CLUSTER}.upstream_rq_retry_success`, 4],
    [`cluster.${CLUSTER}.upstream_cx_connect_fail`, 0],
    [`cluster.${CLUSTER}.upstream_cx_total`, servers.count.connections().length],
    [`listener.0.0.0.0_15001.downstream_cx_total`, connections],
  ];
  t.deepEqual(
    expect.map(([k]) => [k, s.get(k)]),
    expect,
  );

  const prom = (await pod.ns.exec(['curl', '-sS', '--fail', `http://127.0.0.1:${PORTS.prometheus}/stats/prometheus`])).stdout;
  t.regex(prom, new RegExp(`^envoy_cluster_upstream_rq_total\\{cluster_name="outbound\\|80\\|\\|${HOST.replace(/\./g, '\\.')}"\\} 24$`, 'm'));
});
