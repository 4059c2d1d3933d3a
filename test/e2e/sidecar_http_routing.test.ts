/**
 * End-to-end: VirtualService routing through the sidecar (issue 5). One HTTP ServiceEntry with
 * two endpoints on the remote host labelled version v1 / v2, a DestinationRule with a subset per
 * version, and a VirtualService exercising matches (uri exact / prefix / regex, headers,
 * withoutHeaders, method), first-match-wins, rewrites, header operations, redirect, direct
 * response and a weighted split — each checked with real curl against which real server
 * answered and what it received. See test/e2e/README.md for the harness.
 */
import test from 'ava';
import { APP_UID, destinationRule, httpRequest, meshConfigMap, podWithHttp, report, serviceEntry, virtualService, type HttpResponse, type PodWithHttp } from './harness/index.js';

const HOST = 'shop.example.internal';
const VIP = '240.240.2.10';
const PORT = 80;
const V1 = 8081;
const V2 = 8082;
const cluster = (subset: string) => `outbound|${PORT}|${subset}|${HOST}`;

const to = (subset: string, weight?: number) => ({ destination: { host: HOST, subset }, ...(weight === undefined ? {} : { weight }) });

const config = (remoteIp: string) => [
  meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' }),
  serviceEntry({
    name: 'shop',
    hosts: [HOST],
    addresses: [VIP],
    ports: [{ number: PORT, name: 'http', protocol: 'HTTP' }],
    endpoints: [
      { address: remoteIp, ports: { http: V1 }, labels: { version: 'v1' } },
      { address: remoteIp, ports: { http: V2 }, labels: { version: 'v2' } },
    ],
  }),
  destinationRule('shop', {
    host: HOST,
    subsets: [
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2' } },
    ],
  }),
  virtualService('shop', {
    hosts: [HOST],
    http: [
      { name: 'exact', match: [{ uri: { exact: '/exact' } }], route: [to('v2')], headers: { response: { set: { 'x-route': 'exact' } } } },
      { name: 'regex', match: [{ uri: { regex: '/re/[0-9]+' } }], route: [to('v2')], headers: { response: { set: { 'x-route': 'regex' } } } },
      { name: 'jason', match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [to('v2')], headers: { response: { set: { 'x-route': 'jason' } } } },
      { name: 'delete', match: [{ method: { exact: 'DELETE' } }], route: [to('v2')], headers: { response: { set: { 'x-route': 'method' } } } },
      { name: 'query', match: [{ uri: { prefix: '/q' }, queryParams: { v: { exact: '2' } } }], route: [to('v2')], headers: { response: { set: { 'x-route': 'query' } } } },
      { name: 'nocase', match: [{ uri: { exact: '/CaSe' }, ignoreUriCase: true }], route: [to('v2')], headers: { response: { set: { 'x-route': 'nocase' } } } },
      { name: 'tier', match: [{ headers: { 'x-tier': { regex: 'gold|platinum' } } }], route: [to('v2')], headers: { response: { set: { 'x-route': 'tier' } } } },
      { name: 'admin', match: [{ headers: { 'x-user': { prefix: 'admin-' } } }], route: [to('v2')], headers: { response: { set: { 'x-route': 'admin' } } } },
      // RE2 runs in linear time; V8's backtracking engine would take hours on /slow/aaa…a!.
      { name: 'redos', match: [{ uri: { regex: '/slow/(a+)+b' }, ignoreUriCase: true }], route: [to('v2')], headers: { response: { set: { 'x-route': 'redos' } } } },
      // First match wins: /first/second never reaches the second route.
      { name: 'first', match: [{ uri: { prefix: '/first' } }], route: [to('v1')], headers: { response: { set: { 'x-route': 'first' } } } },
      { name: 'never', match: [{ uri: { prefix: '/first/second' } }], route: [to('v2')], headers: { response: { set: { 'x-route': 'never' } } } },
      // withoutHeaders: requests without x-canary stay on v1; with it they fall through to the next route.
      { name: 'stable', match: [{ uri: { prefix: '/canary' }, withoutHeaders: { 'x-canary': {} } }], route: [to('v1')], headers: { response: { set: { 'x-route': 'stable' } } } },
      { name: 'canary', match: [{ uri: { prefix: '/canary' } }], route: [to('v2')], headers: { response: { set: { 'x-route': 'canary' } } } },
      { name: 'rewrite', match: [{ uri: { prefix: '/old/' } }], rewrite: { uri: '/new/', authority: 'backend.internal' }, route: [to('v1')] },
      { name: 'rewrite-exact', match: [{ uri: { exact: '/legacy' } }], rewrite: { uri: '/modern' }, route: [to('v1')] },
      { name: 'rewrite-regex', match: [{ uri: { regex: '/items/[0-9]+' } }], rewrite: { uri: '/item' }, route: [to('v1')] },
      {
        name: 'headers',
        match: [{ uri: { prefix: '/hdr' } }],
        route: [to('v1')],
        headers: {
          request: { set: { 'x-set': 'set-by-vs' }, add: { 'x-add': 'added-by-vs' }, remove: ['x-remove'] },
          response: { set: { 'x-resp': 'yes' }, remove: ['x-server-name'] },
        },
      },
      { name: 'redirect', match: [{ uri: { prefix: '/redirect' } }], redirect: { uri: '/moved', authority: 'elsewhere.example' } },
      { name: 'direct', match: [{ uri: { prefix: '/direct' } }], directResponse: { status: 418, body: { string: 'short and stout' } } },
      { name: 'split', match: [{ uri: { prefix: '/split' } }], route: [to('v1', 80), to('v2', 20)] },
      { name: 'default', route: [to('v1')] },
    ],
  }),
];

async function get(env: PodWithHttp, path: string, args: string[] = []): Promise<HttpResponse> {
  const r = await httpRequest(env.pod.ns, `http://${HOST}${path}`, { args: ['--resolve', `${HOST}:${PORT}:${VIP}`, ...args] });
  if (r.exitCode !== 0) throw new Error(`curl ${path}: exit ${r.exitCode} ${r.stderr}`);
  return r;
}

test('VirtualService matches: uri exact/prefix/regex (linear time)/ignoreUriCase, headers exact/prefix/regex, withoutHeaders, method, queryParams; first match wins; subsets by labels', async (t) => {
  const env = await podWithHttp(t, { servers: { v1: V1, v2: V2 }, config: (r) => config(r.ip) });
  const cases: [string, string[], string, string | undefined][] = [
    // path, curl args, server that answers, x-route
    ['/exact', [], 'v2', 'exact'],
    ['/exact/more', [], 'v1', undefined],
    ['/re/123', [], 'v2', 'regex'],
    ['/re/12a', [], 'v1', undefined],
    ['/re/123?q=1', [], 'v2', 'regex'],
    ['/anything', ['-H', 'end-user: jason'], 'v2', 'jason'],
    ['/anything', ['-H', 'end-user: jasonx'], 'v1', undefined],
    ['/anything', ['-X', 'DELETE'], 'v2', 'method'],
    ['/q?v=2', [], 'v2', 'query'],
    ['/q?x=1&v=2', [], 'v2', 'query'],
    ['/q?v=3', [], 'v1', undefined],
    ['/case', [], 'v2', 'nocase'],
    ['/CASE', [], 'v2', 'nocase'],
    ['/t', ['-H', 'x-tier: gold'], 'v2', 'tier'],
    // Envoy's safe_regex matches the whole value.
    ['/t', ['-H', 'x-tier: golden'], 'v1', undefined],
    ['/u', ['-H', 'x-user: admin-bob'], 'v2', 'admin'],
    ['/u', ['-H', 'x-user: bob'], 'v1', undefined],
    ['/slow/aAab', [], 'v2', 'redos'],
    [`/slow/${'a'.repeat(48)}!`, [], 'v1', undefined],
    ['/first/second', [], 'v1', 'first'],
    ['/canary/x', [], 'v1', 'stable'],
    ['/canary/x', ['-H', 'x-canary: 1'], 'v2', 'canary'],
    ['/', [], 'v1', undefined],
  ];
  for (const [path, args, server, route] of cases) {
    const r = await get(env, path, args);
    const what = `${path} ${args.join(' ')}`;
    t.is(r.status, 200, what);
    t.is(r.headers['x-server-name'], server, what);
    t.is(r.headers['x-route'] as string | undefined, route, what);
    t.is(report(r).url, path, what);
  }
  // Each subset is its own cluster; the VIP's own (subset-less) cluster was never used.
  t.is(await env.pod.waitForStat(`cluster.${cluster('v2')}.upstream_rq_2xx`, 13), 13);
  t.is(await env.pod.stat(`cluster.${cluster('v1')}.upstream_rq_2xx`), 10);
  t.is(await env.pod.stat(`cluster.${cluster('')}.upstream_rq_total`), 0);
  t.is(env.servers.v1.requests().length, 10);
  t.is(env.servers.v2.requests().length, 13);
});

test('VirtualService actions: rewrite uri/authority, header set/add/remove, redirect, direct response', async (t) => {
  const env = await podWithHttp(t, { servers: { v1: V1, v2: V2 }, config: (r) => config(r.ip) });

  // Prefix rewrite keeps the rest of the path and the query; the authority is rewritten.
  const rw = report(await get(env, '/old/thing?a=1'));
  t.is(rw.url, '/new/thing?a=1');
  t.is(rw.headers.host, 'backend.internal');
  t.is(rw.headers['x-envoy-original-path'], '/old/thing?a=1', "Envoy's router records the path before the rewrite");
  // Exact match: the whole path is replaced.
  t.is(report(await get(env, '/legacy?z=9')).url, '/modern?z=9');
  // Regex match: Envoy's prefix_rewrite replaces the whole path (the query stays).
  t.is(report(await get(env, '/items/42?x=1')).url, '/item?x=1');

  const h = await get(env, '/hdr', ['-H', 'x-set: from-app', '-H', 'x-add: from-app', '-H', 'x-remove: bye']);
  const seen = report(h);
  t.is(seen.headers['x-set'], 'set-by-vs', 'set overwrites');
  t.is(seen.headers['x-add'], 'from-app, added-by-vs', 'add appends');
  t.false('x-remove' in seen.headers);
  t.is(h.headers['x-resp'], 'yes');
  t.false('x-server-name' in h.headers, 'response header removed');

  // Redirect: Envoy keeps the request's query when the redirect path has none.
  const rd = await get(env, '/redirect/a?keep=1');
  t.is(rd.status, 301);
  t.is(rd.headers.location, 'http://elsewhere.example/moved?keep=1');
  t.is(rd.headers.server, 'envoy', 'the outbound HCM has no server_name: Envoy\'s default');

  const direct = await get(env, '/direct');
  t.is(direct.status, 418);
  t.is(direct.text, 'short and stout');

  t.is(env.servers.v2.requests().length, 0);
  t.is(env.servers.v1.requests().length, 4, 'redirect and direct response never reach an upstream');
  t.is(await env.pod.waitForStat(`http.outbound_0.0.0.0_${PORT}.rq_redirect`, 1), 1);
  t.is(await env.pod.stat(`http.outbound_0.0.0.0_${PORT}.rq_direct_response`), 1);
});

test('weighted split 80/20 between subsets over 400 requests', async (t) => {
  const env = await podWithHttp(t, { servers: { v1: V1, v2: V2 }, config: (r) => config(r.ip) });
  const n = 400;
  // One curl, one keep-alive connection, n requests: each is routed on its own.
  const urls = Array.from({ length: n }, (_, i) => `http://${HOST}/split/${i}`);
  const out = await env.pod.ns.exec(['curl', '-sS', '--max-time', '60', '--resolve', `${HOST}:${PORT}:${VIP}`, '-w', '%{http_code}\n', ...urls.flatMap((u) => ['-o', '/dev/null', u])], {
    uid: APP_UID,
    timeoutMs: 70_000,
  });
  t.deepEqual(new Set(out.stdout.trim().split('\n')), new Set(['200']));
  const v1 = env.servers.v1.requests().length;
  const v2 = env.servers.v2.requests().length;
  t.is(v1 + v2, n);
  // Binomial(400, 0.2): mean 80, sd 8. [40, 120] is ±5 sd, left about once in 10^6 runs
  // ([50, 110], ±3.7 sd, left it about once in 6,700); an even split gives ~200.
  t.true(v2 >= 40 && v2 <= 120, `v2 got ${v2} of ${n}`);
  t.is(await env.pod.waitForStat(`cluster.${cluster('v1')}.upstream_rq_total`, v1), v1);
  t.is(await env.pod.stat(`cluster.${cluster('v2')}.upstream_rq_total`), v2);
});
