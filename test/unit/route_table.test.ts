import test from 'ava';
import { CompiledRouteConfiguration, type RouteRequest } from '../../src/filters/http/router/route_table.js';
import type { Route, RouteConfiguration, RouteMatch } from '../../src/config/model.js';
import { chooseCluster, RetryState } from '../../src/filters/http/router/route_action.js';
import { normalizePath } from '../../src/filters/network/http_connection_manager/path.js';

const match = (m: Partial<RouteMatch>): RouteMatch => ({ caseSensitive: true, headers: [], queryParameters: [], ...m });
const route = (name: string, m: Partial<RouteMatch>): Route => ({
  name,
  match: match(m),
  route: { cluster: name, timeoutMs: 0, requestMirrorPolicies: [], hashPolicy: [] },
  requestHeadersToAdd: [],
  requestHeadersToRemove: [],
  responseHeadersToAdd: [],
  responseHeadersToRemove: [],
});
const req = (r: Partial<RouteRequest>): RouteRequest => ({ method: 'GET', path: '/', query: '', authority: 'x', scheme: 'http', headers: [], ...r });

function config(vhs: [string[], Route[]][]): CompiledRouteConfiguration {
  const rc: RouteConfiguration = {
    name: '80',
    validateClusters: false,
    virtualHosts: vhs.map(([domains, routes], i) => ({ name: `vh${i}`, domains, routes, includeRequestAttemptCount: true })),
  };
  return new CompiledRouteConfiguration(rc);
}

test("virtual hosts follow Envoy's domain precedence: exact, *.suffix (longest), prefix.*, then *", (t) => {
  const rc = config([
    [['*'], [route('any', {})]],
    [['*.example.com'], [route('wild', {})]],
    [['*.api.example.com'], [route('wild-long', {})]],
    [['api.example.com', 'api.example.com:80'], [route('exact', {})]],
    [['reviews.*'], [route('prefix', {})]],
  ]);
  const vh = (a: string) => rc.virtualHost(a)?.vh.routes[0].name;
  t.is(vh('api.example.com'), 'exact');
  t.is(vh('api.example.com:80'), 'exact');
  t.is(vh('v1.api.example.com'), 'wild-long');
  t.is(vh('www.example.com'), 'wild');
  t.is(vh('reviews.default'), 'prefix');
  t.is(vh('other'), 'any');
});

test('first matching route wins; prefix, exact path, regex, case sensitivity', (t) => {
  const rc = config([
    [
      ['*'],
      [
        route('exact', { path: '/login' }),
        route('regex', { safeRegex: '/users/[0-9]+' }),
        route('ci', { prefix: '/Static', caseSensitive: false }),
        route('api', { prefix: '/api' }),
        route('all', { prefix: '/' }),
      ],
    ],
  ]);
  const vh = rc.virtualHost('x')!;
  const name = (path: string) => CompiledRouteConfiguration.route(vh, req({ path }))?.name;
  t.is(name('/login'), 'exact');
  t.is(name('/login/x'), 'all');
  t.is(name('/users/42'), 'regex');
  t.is(name('/users/42/x'), 'all', 'regex matches the whole path');
  t.is(name('/static/a.css'), 'ci');
  t.is(name('/api/v1'), 'api');
});

test('header, withoutHeaders (inverted), method and query parameter matches', (t) => {
  const jason = route('jason', { prefix: '/', headers: [{ name: 'end-user', stringMatch: { exact: 'jason' } }] });
  const noDebug = route('no-debug', { prefix: '/', headers: [{ name: 'x-debug', stringMatch: { exact: '1' }, invertMatch: true }] });
  const post = route('post', { prefix: '/', headers: [{ name: ':method', stringMatch: { exact: 'POST' } }] });
  const q = route('q', { prefix: '/', queryParameters: [{ name: 'v', stringMatch: { exact: '2' } }] });
  const rc = config([[['*'], [jason, post, q, noDebug]]]);
  const vh = rc.virtualHost('x')!;
  const name = (r: Partial<RouteRequest>) => CompiledRouteConfiguration.route(vh, req(r))?.name;
  t.is(name({ headers: ['end-user', 'jason'] }), 'jason');
  t.is(name({ headers: ['end-user', 'bob'] }), 'no-debug');
  t.is(name({ method: 'POST' }), 'post');
  t.is(name({ query: 'a=1&v=2' }), 'q');
  t.is(name({ headers: ['x-debug', '1'] }), undefined);
});

test('weighted clusters are chosen in proportion to their weights', (t) => {
  const action = {
    weightedClusters: {
      totalWeight: 100,
      clusters: [
        { name: 'v1', weight: 80, requestHeadersToAdd: [], requestHeadersToRemove: [], responseHeadersToAdd: [], responseHeadersToRemove: [] },
        { name: 'v2', weight: 20, requestHeadersToAdd: [], requestHeadersToRemove: [], responseHeadersToAdd: [], responseHeadersToRemove: [] },
      ],
    },
    timeoutMs: 0,
    requestMirrorPolicies: [],
    hashPolicy: [],
  };
  let v2 = 0;
  for (let i = 0; i < 10000; i++) if (chooseCluster(action).name === 'v2') v2++;
  t.true(v2 > 1700 && v2 < 2300, `v2 chosen ${v2} times of 10000`);
});

test("Istio's default retry policy retries connect failures twice, not 5xx", (t) => {
  const policy = { retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes', numRetries: 2, retriableStatusCodes: [], retryHostPredicate: [], hostSelectionRetryMaxAttempts: 5 };
  const r = new RetryState(policy, true);
  t.false(r.shouldRetryStatus(503));
  t.true(r.shouldRetryConnectFailure());
  t.true(r.shouldRetryConnectFailure());
  t.false(r.shouldRetryConnectFailure());
  const s = new RetryState({ ...policy, retryOn: 'gateway-error', numRetries: 1 }, false);
  t.false(s.shouldRetryStatus(500));
  t.true(s.shouldRetryStatus(503));
  t.false(s.shouldRetryStatus(503), 'retries are used up');
  const b = new RetryState({ ...policy, numRetries: 5 }, false);
  for (let i = 0; i < 5; i++) {
    b.shouldRetryConnectFailure();
    t.true(b.nextBackoffMs() <= 250);
  }
});

test('path normalisation removes dot segments and stops at the root', (t) => {
  t.is(normalizePath('/a/b'), '/a/b');
  t.is(normalizePath('/a/../admin'), '/admin');
  t.is(normalizePath('/a/./b/.'), '/a/b/');
  t.is(normalizePath('/../../etc/passwd'), '/etc/passwd');
  t.is(normalizePath('/a/b/..'), '/a/');
});
