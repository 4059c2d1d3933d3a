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

test('LEAST_REQUEST: slow requests in flight together spread evenly, because each pick sees the load', async (t) => {
  const env = await start(t, { simple: 'LEAST_REQUEST' });
  // 20 rounds of 30 requests held 0.5 s by the servers, all in flight at once. Power of two
  // choices keeps each server near 10 per round, but Envoy draws the two hosts with
  // replacement, so one pick in three is a random one and a single round can still come out
  // 6,12,12. The test therefore judges the sum over rounds of each server's squared distance
  // from 10: exactly computed, P2C exceeds 168 about once in 10 million runs, while random
  // picks stay within it about once in 2,000 (one round of 90 in 26..34 failed P2C once in
  // 2,400 runs, and did in CI).
  const rounds: number[][] = [];
  for (let r = 0; r < 20; r++) {
    const before = counts(env);
    const codes = await curlMany(env, Array.from({ length: 30 }, (_, i) => `/slow/${r}/${i}?delay=500`), [], true);
    t.deepEqual(new Set(codes), new Set(['200']));
    rounds.push(counts(env).map((c, i) => c - before[i]));
  }
  t.true(rounds.every((n) => n.reduce((a, b) => a + b, 0) === 30), `${rounds.join(' ')}`);
  const spread = rounds.reduce((sum, n) => sum + n.reduce((s, c) => s + (c - 10) ** 2, 0), 0);
  t.log(`squared distance from even: ${spread}; rounds ${rounds.join(' ')}`);
  t.true(spread <= 168, `${spread}: ${rounds.join(' ')}`);
  // Sequential requests (nothing in flight) still reach every server.
  const before = counts(env);
  await curlMany(env, Array.from({ length: 60 }, (_, i) => `/seq/${i}`));
  t.true(counts(env).every((c, i) => c - before[i] >= 5), `${counts(env)}`);
});
