import test from 'ava';
import type { Socket } from 'node:net';
import type { CircuitBreakerThresholds, RetryPolicy } from '../../src/config/model.js';
import { CX, PENDING, RQ } from '../../src/cluster/circuit_breaker.js';
import { ok, rawExchange, rawUpstream, responses, routeTo, startHcm, staticCluster } from '../support/hcm.js';

const GET = (path = '/') => `GET ${path} HTTP/1.1\r\nhost: svc.local\r\n\r\n`;
const oneResponse = (text: string) => responses(text).length >= 1;
const UNLIMITED = 4294967295;
const limits = (l: Partial<CircuitBreakerThresholds>): CircuitBreakerThresholds => ({
  maxConnections: UNLIMITED,
  maxPendingRequests: UNLIMITED,
  maxRequests: UNLIMITED,
  maxRetries: UNLIMITED,
  trackRemaining: true,
  ...l,
});

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** An upstream that holds every request until the test answers it. */
async function heldUpstream(t: Parameters<typeof rawUpstream>[0]) {
  const held: Socket[] = [];
  const up = await rawUpstream(t, (_r, s) => held.push(s));
  return { up, held, answer: (i: number, body = 'ok') => held[i].write(ok(body)) };
}

test('over maxConnections a request waits in the pending queue; over maxPendingRequests it is 503 UO', async (t) => {
  const { up, held, answer } = await heldUpstream(t);
  const { port, stat, logged, breakers, slots } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port], { circuitBreakers: limits({ maxConnections: 1, maxPendingRequests: 1 }) })]);
  const first = rawExchange(port, GET('/1'), oneResponse);
  await until(() => held.length === 1, 'the first request upstream');
  const second = rawExchange(port, GET('/2'), oneResponse);
  await until(() => stat('cluster.c.upstream_rq_pending_active') === 1, 'the second request pending');
  t.is(stat('cluster.c.upstream_cx_overflow'), 1, 'it could not open a connection');
  t.is(breakers.count(slots.c, PENDING), 1);
  t.is(stat('cluster.c.circuit_breakers.default.rq_pending_open'), 1);
  t.is(stat('cluster.c.circuit_breakers.default.cx_open'), 1);

  const third = await rawExchange(port, GET('/3'), oneResponse);
  const [r3] = responses(third.text);
  t.is(r3.status, 503);
  t.regex(r3.head, /\r\nx-envoy-overloaded: true/);
  t.is(r3.body, 'upstream connect error or disconnect/reset before headers. reset reason: overflow');
  t.is(stat('cluster.c.upstream_rq_pending_overflow'), 1);
  t.true(logged.some((i) => i.path === '/3' && (i.flags & 8) !== 0), 'UO flag in the access log');

  answer(0, 'one');
  await until(() => held.length === 2, 'the pending request on the freed connection');
  answer(1, 'two');
  t.is(responses((await first).text)[0].body, 'one');
  t.is(responses((await second).text)[0].body, 'two');
  t.is(up.connections, 1, 'the pending request reused the one connection');
  t.is(stat('cluster.c.upstream_rq_pending_total'), 2, 'the first request was pending while its connection opened');
  t.is(stat('cluster.c.upstream_rq_pending_active'), 0);
  t.is(breakers.count(slots.c, PENDING), 0);
  await until(() => stat('cluster.c.upstream_rq_active') === 0, 'requests done');
  t.is(breakers.count(slots.c, RQ), 0);
  t.is(breakers.count(slots.c, CX), 1, 'the idle connection still holds its connection resource');
});

test('over maxRequests an attempt is 503 UO and counted as upstream_rq_pending_overflow', async (t) => {
  const { up, held, answer } = await heldUpstream(t);
  const { port, stat } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port], { circuitBreakers: limits({ maxRequests: 1 }) })]);
  const first = rawExchange(port, GET('/1'), oneResponse);
  await until(() => held.length === 1, 'the first request upstream');
  const [r2] = responses((await rawExchange(port, GET('/2'), oneResponse)).text);
  t.is(r2.status, 503);
  t.regex(r2.head, /x-envoy-overloaded: true/);
  t.is(stat('cluster.c.upstream_rq_pending_overflow'), 1);
  t.is(stat('cluster.c.circuit_breakers.default.rq_open'), 1);
  answer(0);
  t.is(responses((await first).text)[0].status, 200);
  t.is(held.length, 1, 'the refused request never reached the upstream');
});

test('a retry the retry breaker refuses is not made: the upstream answer goes to the client, flag UO', async (t) => {
  const up = await rawUpstream(t, (_r, s) => s.write('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\nbusy'));
  const retry: RetryPolicy = { retryOn: '5xx', numRetries: 2, retriableStatusCodes: [], retryHostPredicate: [], hostSelectionRetryMaxAttempts: 5 };
  const { port, stat, logged } = await startHcm(t, [routeTo('c', { retryPolicy: retry })], [staticCluster('c', [up.port], { circuitBreakers: limits({ maxRetries: 0 }) })]);
  const [r] = responses((await rawExchange(port, GET(), oneResponse)).text);
  t.is(r.status, 503);
  t.is(r.body, 'busy', 'the upstream\'s own answer');
  t.is(up.requests.length, 1);
  t.is(stat('cluster.c.upstream_rq_retry_overflow'), 1);
  t.is(stat('cluster.c.upstream_rq_retry'), 0);
  t.true((logged[0].flags & 8) !== 0, 'UO flag');
});

test('retries within maxRetries are made and give the resource back', async (t) => {
  const up = await rawUpstream(t, (_r, s, i) => s.write(i < 3 ? 'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n' : ok('third')));
  const retry: RetryPolicy = { retryOn: '5xx', numRetries: 2, retriableStatusCodes: [], retryHostPredicate: [], hostSelectionRetryMaxAttempts: 5 };
  const { port, stat, breakers, slots } = await startHcm(t, [routeTo('c', { retryPolicy: retry })], [staticCluster('c', [up.port], { circuitBreakers: limits({ maxRetries: 1 }) })]);
  const [r] = responses((await rawExchange(port, GET(), oneResponse)).text);
  t.is(r.body, 'third', 'one retry at a time fits a limit of 1');
  t.is(stat('cluster.c.upstream_rq_retry'), 2);
  t.is(stat('cluster.c.upstream_rq_retry_overflow'), 0);
  t.is(breakers.count(slots.c, 3), 0);
});

test('a connection closed to retry a 503 is not handed to the request waiting for it: that one waits for a fresh connection', async (t) => {
  const { up, held } = await heldUpstream(t);
  const retry: RetryPolicy = { retryOn: '5xx', numRetries: 2, retriableStatusCodes: [], retryHostPredicate: [], hostSelectionRetryMaxAttempts: 5 };
  const { port, stat } = await startHcm(t, [routeTo('c', { retryPolicy: retry })], [staticCluster('c', [up.port], { circuitBreakers: limits({ maxConnections: 1 }) })]);
  const first = rawExchange(port, GET('/1'), oneResponse);
  await until(() => held.length === 1, 'the first request upstream');
  const second = rawExchange(port, GET('/2'), oneResponse);
  await until(() => stat('cluster.c.upstream_rq_pending_active') === 1, 'the second request pending');
  // The 503 and its body in one read: the retry closes the connection while the parser is
  // still inside that read, and the end of the message must not give it back to the pool.
  held[0].write('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\nbusy');
  await until(() => held.length === 2, 'the pending request on a new connection');
  held[1].write(ok('two'));
  await until(() => held.length === 3, 'the retry');
  held[2].write(ok('one'));
  t.is(responses((await first).text)[0].body, 'one');
  t.is(responses((await second).text)[0].body, 'two');
  t.is(stat('cluster.c.upstream_rq_rx_reset'), 0, 'no request was written to the closed connection');
  t.is(stat('cluster.c.upstream_rq_total'), 3, 'three attempts: /1, /2 and the retry of /1');
  t.is(up.connections, 2, 'the closed one, then one fresh connection (the only one allowed) for /2 and the retry');
});

test('a pending request fails after the connect timeout', async (t) => {
  const { up, held } = await heldUpstream(t);
  const { port, stat } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port], { connectTimeoutMs: 300, circuitBreakers: limits({ maxConnections: 1 }) })]);
  void rawExchange(port, GET('/1'), oneResponse);
  await until(() => held.length === 1, 'the first request upstream');
  const [r] = responses((await rawExchange(port, GET('/2'), oneResponse)).text);
  t.is(r.status, 503);
  t.regex(r.body, /reset reason: connection timeout/);
  t.is(stat('cluster.c.upstream_rq_pending_active'), 0);
});

test('a pending request whose client goes away leaves the queue', async (t) => {
  const { up, held, answer } = await heldUpstream(t);
  const { port, stat, breakers, slots } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port], { circuitBreakers: limits({ maxConnections: 1 }) })]);
  const first = rawExchange(port, GET('/1'), oneResponse);
  await until(() => held.length === 1, 'the first request upstream');
  void rawExchange(port, GET('/2'), () => false, 200);
  await until(() => stat('cluster.c.upstream_rq_pending_active') === 1, 'the second request pending');
  await until(() => stat('cluster.c.upstream_rq_pending_active') === 0, 'the client gone');
  t.is(breakers.count(slots.c, PENDING), 0);
  answer(0);
  await first;
  await new Promise((r) => setTimeout(r, 50));
  t.is(held.length, 1, 'nothing was sent for the departed client');
});

test('a connection past maxConnectionDuration finishes its request, then closes', async (t) => {
  const { up, held, answer } = await heldUpstream(t);
  const { port, stat, breakers, slots } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port], { maxConnectionDurationMs: 100 })]);
  const first = rawExchange(port, GET('/1'), oneResponse);
  await until(() => held.length === 1, 'the request upstream');
  await until(() => stat('cluster.c.upstream_cx_max_duration_reached') === 1, 'the duration to pass');
  t.false(held[0].destroyed, 'the busy connection stays open');
  answer(0, 'done');
  t.is(responses((await first).text)[0].body, 'done');
  await until(() => stat('cluster.c.upstream_cx_active') === 0, 'the connection closed');
  t.is(breakers.count(slots.c, CX), 0, 'its connection resource was given back');
});

test('unlimited breakers (Istio\'s default) still count, for the remaining_* gauges', async (t) => {
  const up = await rawUpstream(t, (_r, s) => s.write(ok()));
  const { port, stat } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port], { circuitBreakers: limits({}) })]);
  await rawExchange(port, GET(), oneResponse);
  t.is(stat('cluster.c.circuit_breakers.default.remaining_cx'), UNLIMITED - 1, 'one idle connection held');
  t.is(stat('cluster.c.circuit_breakers.default.cx_open'), 0);
});

test('an idle connection is given up for a pool that waits for the cluster\'s only connection', async (t) => {
  const a = await rawUpstream(t, (_r, s) => s.write(ok('a')));
  const b = await rawUpstream(t, (_r, s) => s.write(ok('b')));
  // Two hosts, round robin (from a random start): the second request goes to the host that has no connection.
  const { port, stat } = await startHcm(t, [routeTo('c')], [
    staticCluster('c', [a.port, b.port], { lbPolicy: 'ROUND_ROBIN', connectTimeoutMs: 3000, circuitBreakers: limits({ maxConnections: 1 }) }),
  ]);
  const firstBody = responses((await rawExchange(port, GET(), oneResponse)).text)[0].body;
  const [second] = responses((await rawExchange(port, GET(), oneResponse)).text);
  t.is(second.status, 200, 'served, not left to time out behind the idle connection');
  t.is(second.body, firstBody === 'a' ? 'b' : 'a', 'the other host');
  t.is(stat('cluster.c.upstream_cx_overflow'), 1);
  t.is(stat('cluster.c.upstream_cx_active'), 1, 'never more than the one connection');
});
