/**
 * End-to-end: load balancing through the sidecar (issue 7). One HTTP ServiceEntry with three
 * endpoints (three real servers on the remote host) and a DestinationRule whose loadBalancer
 * changes per test: consistentHash by header (one user, one server) and by cookie (generated
 * with Set-Cookie), ROUND_ROBIN (exactly even over one connection), LEAST_REQUEST (slow
 * requests in flight at once spread evenly, because each pick sees the others' load).
 * (Subsets routed by VirtualService over version-labelled upstreams: sidecar_http_routing.)
 */
import test from 'ava';
import { APP_UID, destinationRule, httpRequest, meshConfigMap, podWithHttp, serviceEntry, type PodWithHttp } from './harness/index.js';

const HOST = 'lb.example.internal';
const VIP = '240.240.2.20';
const PORT = 80;
const SERVERS = { a: 8081, b: 8082, c: 8083 };
const CLUSTER = `outbound|${PORT}||${HOST}`;

const config = (remoteIp: string, loadBalancer: Record<string, unknown>) => [
  meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' }),
  serviceEntry({
    name: 'lb',
    hosts: [HOST],
    addresses: [VIP],
    ports: [{ number: PORT, name: 'http', protocol: 'HTTP' }],
    endpoints: Object.values(SERVERS).map((port) => ({ address: remoteIp, ports: { http: port } })),
  }),
  destinationRule('lb', { host: HOST, trafficPolicy: { loadBalancer } }),
];

const start = (t: import('ava').ExecutionContext, loadBalancer: Record<string, unknown>) => podWithHttp(t, { servers: SERVERS, config: (r) => config(r.ip, loadBalancer) });

const counts = (env: PodWithHttp) => Object.keys(SERVERS).map((name) => env.servers[name].requests().length);

/** n requests, one curl: sequential over one keep-alive connection (parallel: each on its own). */
async function curlMany(env: PodWithHttp, paths: string[], args: string[] = [], parallel = false): Promise<string[]> {
  const out = await env.pod.ns.exec(
    ['curl', '-sS', '--max-time', '60', ...(parallel ? ['--parallel', '--parallel-max', String(paths.length)] : []), '--resolve', `${HOST}:${PORT}:${VIP}`, '-w', '%{http_code}\n', ...args, ...paths.flatMap((p) => ['-o', '/dev/null', `http://${HOST}${p}`])],
    { uid: APP_UID, timeoutMs: 70_000 },
  );
  return out.stdout.trim().split('\n');
}

test('consistentHash httpHeaderName: every request of one user reaches the same server, users spread', async (t) => {
  const env = await start(t, { consistentHash: { httpHeaderName: 'x-user' } });
  for (const user of ['alice', 'bob', 'carol']) {
    const before = counts(env);
    t.deepEqual(new Set(await curlMany(env, Array.from({ length: 20 }, (_, i) => `/${user}/${i}`), ['-H', `x-user: ${user}`])), new Set(['200']));
    const after = counts(env);
    const got = after.map((n, i) => n - before[i]);
    t.is(got.filter((n) => n > 0).length, 1, `${user}: ${got}`);
    t.is(got.reduce((a, b) => a + b, 0), 20);
  }
  // Forty different users do not all land on one server.
  const before = counts(env);
  for (let u = 0; u < 40; u++) await curlMany(env, [`/u${u}`], ['-H', `x-user: user-${u}`]);
  t.true(counts(env).filter((n, i) => n > before[i]).length >= 2, `${counts(env)}`);
});

test('consistentHash httpCookie with ttl: the first response sets the cookie, and requests carrying it stick to one server', async (t) => {
  const env = await start(t, { consistentHash: { httpCookie: { name: 'sticky', path: '/', ttl: '60s' } } });
  const first = await httpRequest(env.pod.ns, `http://${HOST}/first`, { args: ['--resolve', `${HOST}:${PORT}:${VIP}`] });
  t.is(first.status, 200);
  const m = /^sticky="([0-9a-f]{16})"; Max-Age=60; Path=\/; HttpOnly$/.exec(first.headers['set-cookie'] ?? '');
  t.truthy(m, first.headers['set-cookie']);
  const server = first.headers['x-server-name'];
  const before = env.servers[server].requests().length;
  t.deepEqual(new Set(await curlMany(env, Array.from({ length: 15 }, (_, i) => `/again/${i}`), ['-H', `cookie: sticky=${m![1]}`])), new Set(['200']));
  t.is(env.servers[server].requests().length - before, 15);
});

test('ROUND_ROBIN: 300 requests over one connection are split exactly evenly over the three servers', async (t) => {
  const env = await start(t, { simple: 'ROUND_ROBIN' });
  t.deepEqual(new Set(await curlMany(env, Array.from({ length: 300 }, (_, i) => `/rr/${i}`))), new Set(['200']));
  t.deepEqual(counts(env), [100, 100, 100]);
  t.is(await env.pod.waitForStat(`cluster.${CLUSTER}.upstream_rq_total`, 300), 300);
});

test('LEAST_REQUEST: 90 slow requests in flight together spread evenly, because each pick sees the load', async (t) => {
  const env = await start(t, { simple: 'LEAST_REQUEST' });
  const codes = await curlMany(env, Array.from({ length: 90 }, (_, i) => `/slow/${i}?delay=3000`), [], true);
  t.deepEqual(new Set(codes), new Set(['200']));
  const n = counts(env);
  t.is(n.reduce((a, b) => a + b, 0), 90);
  // Power of two choices over in-flight counts keeps every server near 30. Envoy draws the two
  // hosts with replacement, so a pick can still land on the busiest. Simulated: one run in
  // ~3,700 leaves 26..34, while random picks stay inside it 43 % of the time (30 requests in
  // 8..12 left it one run in 60, with random picks inside 40 % of the time).
  t.log(`spread ${n}`);
  for (const c of n) t.true(c >= 26 && c <= 34, `${n}`);
  // Sequential requests (nothing in flight) still reach every server.
  const before = counts(env);
  await curlMany(env, Array.from({ length: 60 }, (_, i) => `/seq/${i}`));
  t.true(counts(env).every((c, i) => c - before[i] >= 5), `${counts(env)}`);
});
