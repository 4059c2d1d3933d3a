import test, { type ExecutionContext } from 'ava';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { throwOnceIn } from '../support/inject_throw.js';
import { HCM, rawExchange, rawUpstream, responses, routeTo, startHcm, staticCluster, ok } from '../support/hcm.js';

const GET = (path = '/', host = 'svc.local', extra = '') => `GET ${path} HTTP/1.1\r\nhost: ${host}\r\n${extra}\r\n`;
const n = (count: number) => (text: string) => responses(text).length >= count;

test('a request is routed, re-serialised with Envoy headers, and the connection is reused upstream', async (t) => {
  const up = await rawUpstream(t, (_r, s) => s.write(ok('hello', 'server: upstream\r\nconnection: keep-alive\r\n')));
  const { port, stat, logged } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);
  const { text } = await rawExchange(port, GET('/a', 'svc.local', 'connection: keep-alive, x-drop\r\nx-drop: 1\r\nkeep-alive: 5\r\n') + GET('/b'), n(2));
  const rs = responses(text);
  t.deepEqual(rs.map((r) => [r.status, r.body]), [[200, 'hello'], [200, 'hello']]);
  t.regex(rs[0].head, /\r\nx-envoy-upstream-service-time: \d+/);
  t.regex(rs[0].head, /\r\nserver: istio-envoy\r\n/, "istiod's server_name replaces the upstream's");
  t.notRegex(rs[0].head, /server: upstream/);
  t.notRegex(rs[0].head, /connection: keep-alive/);
  t.is(up.connections, 1, 'both requests used one pooled upstream connection');
  const first = up.requests[0].toLowerCase();
  t.true(first.startsWith('get /a http/1.1\r\n'));
  t.regex(first, /\r\nx-request-id: [0-9a-f-]{36}\r\n/);
  t.regex(first, /\r\nx-forwarded-proto: http\r\n/);
  t.regex(first, /\r\nx-envoy-attempt-count: 1\r\n/);
  t.notRegex(first, /x-drop|keep-alive|connection/, 'hop-by-hop headers and those named by Connection are dropped');
  t.is(stat('cluster.c.upstream_rq_2xx'), 2);
  t.is(stat('http.outbound_0.0.0.0_80.downstream_rq_2xx'), 2);
  t.is(logged.length, 2);
  t.is(logged[0].details, 'via_upstream');
});

test("the server header follows the HCM's server_name and server_header_transformation, on proxied and local replies", async (t) => {
  const cases = [
    { transformation: 'OVERWRITE', upstreamSends: true, proxied: ['my-mesh'], local: ['my-mesh'] },
    { transformation: 'APPEND_IF_ABSENT', upstreamSends: true, proxied: ['upstream'], local: ['my-mesh'] },
    { transformation: 'APPEND_IF_ABSENT', upstreamSends: false, proxied: ['my-mesh'], local: ['my-mesh'] },
    { transformation: 'PASS_THROUGH', upstreamSends: true, proxied: ['upstream'], local: [] },
    { transformation: 'PASS_THROUGH', upstreamSends: false, proxied: [], local: [] },
  ] as const;
  for (const c of cases) {
    const up = await rawUpstream(t, (_r, s) => s.write(ok('hi', c.upstreamSends ? 'server: upstream\r\n' : '')));
    const filter = { ...HCM, serverName: 'my-mesh', serverHeaderTransformation: c.transformation };
    const { port } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])], ['known.local'], filter);
    const { text } = await rawExchange(port, GET('/', 'known.local') + GET('/', 'unknown.local'), n(2));
    const [proxied, local] = responses(text).map((r) => [...r.head.matchAll(/\r\nserver: ([^\r]*)/g)].map((m) => m[1]));
    const label = `${c.transformation}, upstream ${c.upstreamSends ? 'sends' : 'sends no'} server`;
    t.deepEqual(proxied, [...c.proxied], `${label}: proxied`);
    t.deepEqual(local, [...c.local], `${label}: local 404`);
  }
});

test('a response without a date gets one, as Envoy adds; an upstream date is kept', async (t) => {
  const up = await rawUpstream(t, (r, s) => s.write(ok('hi', r.includes('/dated') ? 'date: Sun, 06 Nov 1994 08:49:37 GMT\r\n' : '')));
  const { port } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);
  const { text } = await rawExchange(port, GET('/undated') + GET('/dated'), n(2));
  const dates = responses(text).map((r) => [...r.head.matchAll(/\r\ndate: ([^\r]*)/g)].map((m) => m[1]));
  t.is(dates[0].length, 1);
  // responses() reads heads in lower case.
  t.is(new Date(dates[0][0]!).toUTCString().toLowerCase(), dates[0][0], 'an IMF-fixdate');
  t.true(Math.abs(Date.parse(dates[0][0]!) - Date.now()) < 5_000);
  t.deepEqual(dates[1], ['sun, 06 nov 1994 08:49:37 gmt']);
});

test('no route is 404 NR and the connection stays usable', async (t) => {
  const up = await rawUpstream(t, (_r, s) => s.write(ok()));
  const { port, logged } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])], ['known.local']);
  const { text, closed } = await rawExchange(port, GET('/', 'unknown.local') + GET('/', 'known.local'), n(2));
  const rs = responses(text);
  t.deepEqual(rs.map((r) => r.status), [404, 200]);
  t.false(closed);
  t.is(logged[0].flags & 1, 1, 'NR flag');
});

test('request bodies are streamed with content-length and chunked framing', async (t) => {
  const up = await rawUpstream(t, (req, s) => {
    const body = req.slice(req.indexOf('\r\n\r\n') + 4);
    s.write(ok(`got ${body.length}`));
  });
  const { port } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);
  const body = 'x'.repeat(10000);
  const cl = `POST / HTTP/1.1\r\nhost: a\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
  const ch = `POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\n\r\n`;
  const { text } = await rawExchange(port, cl + ch, n(2));
  t.deepEqual(responses(text).map((r) => r.body), ['got 10000', `got ${'5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n'.length}`]);
  t.regex(up.requests[1].toLowerCase(), /transfer-encoding: chunked/);
});

test('a declared response body reaches the client whole, however the upstream splits it from its head', async (t) => {
  const big = 'b'.repeat(20000); // past the room kept after a head: joined to it in a new Buffer
  const later = (s: { write(d: string): unknown }, parts: string[]) => parts.forEach((p, i) => setTimeout(() => s.write(p), 20 * (i + 1)));
  const up = await rawUpstream(t, (_r, s, n) => {
    const head = (len: number) => `HTTP/1.1 200 OK\r\ncontent-length: ${len}\r\n\r\n`;
    if (n === 1) s.write(head(10) + 'helloworld'); // with its head: one write
    else if (n === 2) (s.write(head(10)), later(s, ['hello', 'world'])); // after it, in two reads
    else if (n === 3) (s.write(head(10) + 'hel'), later(s, ['lowor', 'ld'])); // partly with it
    else s.write(head(big.length) + big);
  });
  const { port } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);
  const { text } = await rawExchange(port, GET('/1') + GET('/2') + GET('/3') + GET('/4'), n(4));
  t.deepEqual(responses(text).map((r) => r.body), ['helloworld', 'helloworld', 'helloworld', big]);
});

test('a connect failure is 503 UF with Envoy\'s body, retried per policy first', async (t) => {
  const { port, stat, logged } = await startHcm(
    t,
    [routeTo('c', { retryPolicy: { retryOn: 'connect-failure', numRetries: 2, retriableStatusCodes: [], retryHostPredicate: [], hostSelectionRetryMaxAttempts: 5 } })],
    [staticCluster('c', [1])],
  );
  const { text } = await rawExchange(port, GET(), n(1));
  const [r] = responses(text);
  t.is(r.status, 503);
  t.is(r.body, 'upstream connect error or disconnect/reset before headers. retried and the latest reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused');
  t.is(stat('cluster.c.upstream_rq_retry'), 2);
  t.is(logged[0].attempts, 3);
  t.true((logged[0].flags & 4) !== 0, 'UF flag');
});

test('retries on 5xx resend the request with a new attempt count', async (t) => {
  const up = await rawUpstream(t, (_r, s, i) => s.write(i === 1 ? 'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n' : ok('second')));
  const { port } = await startHcm(
    t,
    [routeTo('c', { retryPolicy: { retryOn: '5xx', numRetries: 2, retriableStatusCodes: [], retryHostPredicate: [], hostSelectionRetryMaxAttempts: 5 } })],
    [staticCluster('c', [up.port])],
  );
  const { text } = await rawExchange(port, `POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\n\r\nabc`, n(1));
  t.is(responses(text)[0].body, 'second');
  t.is(up.requests.length, 2);
  t.regex(up.requests[1], /x-envoy-attempt-count: 2\r\n/);
  t.true(up.requests[1].endsWith('abc'), 'the body is sent again');
});

test('the route timeout answers 504 UT', async (t) => {
  const up = await rawUpstream(t, () => {});
  const { port, logged } = await startHcm(t, [routeTo('c', { timeoutMs: 200 })], [staticCluster('c', [up.port])]);
  const { text } = await rawExchange(port, GET(), n(1));
  const [r] = responses(text);
  t.is(r.status, 504);
  t.is(r.body, 'upstream request timeout');
  t.true((logged[0].flags & 16) !== 0, 'UT flag');
});

test('fault abort and delay, direct response and redirect', async (t) => {
  const up = await rawUpstream(t, (_r, s) => s.write(ok()));
  const base = routeTo('c');
  const { port } = await startHcm(
    t,
    [
      { ...base, name: 'abort', match: { ...base.match, prefix: '/abort' }, fault: { abort: { httpStatus: 418, percent: 100 } } },
      { ...base, name: 'delay', match: { ...base.match, prefix: '/delay' }, fault: { delay: { fixedDelayMs: 150, percent: 100 } } },
      { ...base, name: 'direct', match: { ...base.match, prefix: '/direct' }, route: undefined, directResponse: { status: 200, body: 'canned' } },
      { ...base, name: 'moved', match: { ...base.match, prefix: '/old' }, route: undefined, redirect: { pathRedirect: '/new', responseCode: 301 } },
    ],
    [staticCluster('c', [up.port])],
  );
  const started = Date.now();
  const { text } = await rawExchange(port, GET('/abort') + GET('/delay') + GET('/direct') + GET('/old', 'svc.local:8080'), n(4));
  const rs = responses(text);
  t.deepEqual(rs.map((r) => r.status), [418, 200, 200, 301]);
  t.is(rs[0].body, 'fault filter abort');
  t.true(Date.now() - started >= 140, 'the delay was injected');
  t.is(rs[2].body, 'canned');
  t.regex(rs[3].head, /\r\nlocation: http:\/\/svc.local\/new/);
});

test('malformed requests get 400/501, the connection closes, and nothing reaches the upstream', async (t) => {
  const up = await rawUpstream(t, (_r, s) => s.write(ok()));
  const { port } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);
  const cases: [string, number][] = [
    ['POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: gzip, chunked\r\n\r\n', 501],
    ['GET / HTTP/1.1\r\nhost : a\r\n\r\n', 400],
    ['GET / HTTP/1.1\nhost: a\n\n', 400],
    [`GET / HTTP/1.1\r\nhost: a\r\nx: ${'a'.repeat(70000)}\r\n\r\n`, 431],
  ];
  for (const [req, status] of cases) {
    const { text, closed } = await rawExchange(port, req);
    t.is(Number(text.slice(9, 12)), status, JSON.stringify(req.slice(0, 60)));
    t.true(closed);
  }
  t.is(up.requests.length, 0);
});

test('the target and Host are checked before routing: two Hosts, an invalid authority, a fragment, a bad absolute URL are 400 and reach no upstream', async (t) => {
  const up = await rawUpstream(t, (r, s) => s.write(ok(r.slice(0, r.indexOf('\r\n')))));
  const { port, logged } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);
  const refused: [string, string][] = [
    ['GET / HTTP/1.1\r\nhost: a\r\nHOST: b\r\n\r\n', 'http1.codec_error'],
    [GET('/', 'a b'), 'http.invalid_authority'],
    [GET('/', 'a/b'), 'http.invalid_authority'],
    [GET('/', '[::1'), 'http.invalid_authority'],
    [GET('/admin#x'), 'path_normalization_failed'],
    ['GET http://[::1/x HTTP/1.1\r\nhost: a\r\n\r\n', 'http1.invalid_url'],
    ['GET http://a b/x HTTP/1.1\r\nhost: a\r\n\r\n', 'http1.codec_error'],
    ['GET http://a%/x#f HTTP/1.1\r\nhost: a\r\n\r\n', 'path_normalization_failed'],
    ['GET ftp://a/x HTTP/1.1\r\nhost: a\r\n\r\n', 'http1.invalid_scheme'],
    ['GET https://a/x HTTP/1.1\r\nhost: a\r\n\r\n', 'http1.https_url_on_plaintext_connection'],
  ];
  for (const [req, details] of refused) {
    const { text } = await rawExchange(port, req, n(1));
    t.is(responses(text)[0]?.status, 400, JSON.stringify(req));
    t.is(logged.at(-1)?.details, details, JSON.stringify(req));
  }
  t.is(up.requests.length, 0);
  // Served: an IPv6 literal with a port; absolute-form (its host replaces Host, userinfo dropped, no path is "/").
  const served: [string, string, string][] = [
    [GET('/v6', '[::1]:80'), 'GET /v6 HTTP/1.1', '[::1]:80'],
    ['GET HTTP://u:p@b.local:8080/p?q=1 HTTP/1.1\r\nhost: a\r\n\r\n', 'GET /p?q=1 HTTP/1.1', 'b.local:8080'],
    ['GET http://b.local?q HTTP/1.1\r\nhost: a\r\n\r\n', 'GET /?q HTTP/1.1', 'b.local'],
  ];
  for (const [req, line, host] of served) {
    const { text } = await rawExchange(port, req, n(1));
    t.is(responses(text)[0]?.body, line, JSON.stringify(req));
    t.regex(up.requests.at(-1)!, new RegExp(`\\r\\nhost: ${host.replace(/[[\]]/g, '\\$&')}\\r\\n`, 'i'));
  }
});

test('HTTP/1.0 is refused with 426 as Envoy does by default; missing Host is 400', async (t) => {
  const { port } = await startHcm(t, [routeTo('c')], [staticCluster('c', [1])]);
  t.is(responses((await rawExchange(port, 'GET / HTTP/1.0\r\n\r\n', n(1))).text)[0].status, 426);
  t.is(responses((await rawExchange(port, 'GET / HTTP/1.1\r\n\r\n', n(1))).text)[0].status, 400);
});

test('HEAD and 204 responses carry no body; 100-continue is answered locally', async (t) => {
  const up = await rawUpstream(t, (req, s) => {
    if (req.startsWith('HEAD')) s.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n');
    else if (req.startsWith('DELETE')) s.write('HTTP/1.1 204 No Content\r\n\r\n');
    else s.write(ok(req.includes('expect') ? 'saw-expect' : 'no-expect'));
  });
  const { port } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);
  const head = await rawExchange(port, 'HEAD / HTTP/1.1\r\nhost: a\r\n\r\n' + GET(), (s) => s.includes('no-expect') || s.includes('ok'));
  t.regex(head.text, /^HTTP\/1.1 200 OK\r\n[\s\S]*content-length: 1000\r\n[\s\S]*\r\n\r\nHTTP\/1.1 200/);
  const del = await rawExchange(port, 'DELETE / HTTP/1.1\r\nhost: a\r\n\r\n', (s) => s.includes('\r\n\r\n'));
  t.regex(del.text, /^HTTP\/1.1 204/);
  const cont = await rawExchange(port, 'POST / HTTP/1.1\r\nhost: a\r\nexpect: 100-continue\r\ncontent-length: 2\r\n\r\nhi', (s) => s.includes('expect'));
  t.true(cont.text.startsWith('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200'));
  t.true(cont.text.endsWith('no-expect'));
});

test('a WebSocket upgrade is tunnelled after a real 101, refused otherwise', async (t) => {
  const up = await rawUpstream(t, (req, s) => {
    if (req.includes('/ws')) {
      // The server speaks first in the same write as its 101: those bytes belong to the tunnel.
      s.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\nhi:');
      s.removeAllListeners('data');
      s.on('data', (d) => s.write(`echo:${d}`));
    } else s.write(ok('not upgraded'));
  });
  const { port } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);
  const upgrade = 'GET /ws HTTP/1.1\r\nhost: a\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n';
  const ws = await rawExchange(port, upgrade + 'ping', (s) => s.includes('echo:'));
  t.regex(ws.text, /^HTTP\/1.1 101 Switching Protocols\r\n/);
  t.true(ws.text.endsWith('\r\n\r\nhi:echo:ping'), ws.text);
  t.regex(up.requests[0].toLowerCase(), /\r\nupgrade: websocket\r\n/);
  const refused = await rawExchange(port, 'GET /plain HTTP/1.1\r\nhost: a\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n', (s) => s.includes('not upgraded'));
  t.regex(refused.text, /^HTTP\/1.1 200/);
});

/** A request whose stream meets an injected bug: its client connection closes unanswered. */
async function closedUnanswered(t: ExecutionContext, port: number, path: string): Promise<void> {
  const c = connect({ port, host: '127.0.0.1' });
  c.on('error', () => {});
  c.write(GET(path));
  let answer = '';
  c.on('data', (d) => (answer += d.toString('latin1')));
  await once(c, 'close');
  t.is(answer, '', 'the broken stream got no response, its connection was closed');
}

/** The worker that met the bug still serves the next request. */
async function stillServes(t: ExecutionContext, port: number): Promise<void> {
  const after = responses((await rawExchange(port, GET('/ok'), n(1))).text);
  t.is(after[0]!.status, 200);
  t.is(after[0]!.body, 'fine');
}

test.serial('a throw in a stream timer ends that stream only: the worker keeps serving', async (t) => {
  const up = await rawUpstream(t, (req, s) => {
    if (!req.startsWith('GET /slow')) s.write(ok('fine'));
  });
  const { port } = await startHcm(t, [routeTo('c', { timeoutMs: 100 })], [staticCluster('c', [up.port])]);
  // In the route timeout's handling.
  const threw = throwOnceIn(t, 'hostFailure', (s) => s.path === '/slow');
  await closedUnanswered(t, port, '/slow');
  t.true(threw(), 'the injected throw ran');
  await stillServes(t, port);
});

test.serial('a throw while a stream hears its upstream close ends that stream only: the worker keeps serving', async (t) => {
  const up = await rawUpstream(t, (req, s) => {
    if (req.startsWith('GET /boom')) s.destroy();
    else s.write(ok('fine'));
  });
  const { port } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);
  // It runs from the upstream socket's 'close' event, outside any read.
  const threw = throwOnceIn(t, 'onUpstreamReset', (s) => s.path === '/boom');
  await closedUnanswered(t, port, '/boom');
  t.true(threw(), 'the injected throw ran');
  await stillServes(t, port);
});

test.serial('a throw while a stream hears its client leave still cancels its upstream request: the worker keeps serving', async (t) => {
  let arrived!: (s: Socket) => void;
  const hung = new Promise<Socket>((r) => (arrived = r));
  const up = await rawUpstream(t, (req, s) => {
    if (req.startsWith('GET /hang')) arrived(s);
    else s.write(ok('fine'));
  });
  const { port } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);
  // It runs from the client socket's 'close' event, outside any read.
  const threw = throwOnceIn(t, 'onDownstreamReset', (s) => s.path === '/hang');
  const c = connect({ port, host: '127.0.0.1' });
  c.on('error', () => {});
  c.write(GET('/hang'));
  const upstreamSide = await hung;
  const upstreamClosed = once(upstreamSide, 'close');
  // A reset, not a FIN: a half-closed client is still answered; a reset ends its stream.
  c.resetAndDestroy();
  await once(c, 'close');
  for (let i = 0; i < 50 && !threw(); i++) await new Promise((r) => setTimeout(r, 10));
  t.true(threw(), 'the injected throw ran');
  // The request the upstream holds is aborted, not left to run to its end for nobody.
  t.is(await Promise.race([upstreamClosed.then(() => 'closed'), new Promise((r) => setTimeout(r, 2000, 'still open'))]), 'closed');
  await stillServes(t, port);
});

test('an upstream reset before the response is 503 UC; a stale pooled connection is retried once', async (t) => {
  let mode = 'reset';
  const up = await rawUpstream(t, (_r, s, i) => {
    if (mode === 'reset') s.destroy();
    else if (i === 2) {
      // Answer, then close the idle connection as the next request arrives.
      s.end(ok('first', 'connection: keep-alive\r\n'));
    } else s.write(ok('fresh'));
  });
  const { port } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);
  const reset = responses((await rawExchange(port, GET(), n(1))).text)[0];
  t.is(reset.status, 503);
  t.regex(reset.body, /reset before headers/);
  mode = 'close-after';
  const both = responses((await rawExchange(port, GET() , n(1))).text);
  t.is(both[0].body, 'first');
  await new Promise((r) => setTimeout(r, 50));
  const again = responses((await rawExchange(port, GET(), n(1))).text);
  t.is(again[0].status, 200, 'a request on the connection the upstream closed went to a fresh one');
});

test('mirror sends a shadow copy with the authority suffixed -shadow; its answer is ignored', async (t) => {
  const up = await rawUpstream(t, (_r, s) => s.write(ok('primary')));
  const shadow = await rawUpstream(t, (_r, s) => s.write('HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n'));
  const { port } = await startHcm(t, [routeTo('c', { requestMirrorPolicies: [{ cluster: 'm', percent: 100 }] })], [staticCluster('c', [up.port]), staticCluster('m', [shadow.port])]);
  const { text } = await rawExchange(port, `POST /x HTTP/1.1\r\nhost: svc.local:8080\r\ncontent-length: 4\r\n\r\nbody`, n(1));
  t.is(responses(text)[0].body, 'primary');
  for (let i = 0; i < 50 && shadow.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.is(shadow.requests.length, 1);
  t.regex(shadow.requests[0], /^POST \/x HTTP\/1.1\r\n/);
  t.regex(shadow.requests[0], /\r\nhost: svc.local-shadow:8080\r\n/);
  t.true(shadow.requests[0].endsWith('body'));
});

test('CORS: a preflight from an allowed origin is answered locally; responses to it carry the allow headers', async (t) => {
  const up = await rawUpstream(t, (req, s) => s.write(ok(req.startsWith('OPTIONS') ? 'forwarded-preflight' : 'data')));
  const cors = {
    allowOriginStringMatch: [{ exact: 'https://app.example.com' }],
    allowMethods: ['GET', 'POST'],
    allowHeaders: ['x-token'],
    exposeHeaders: ['x-trace'],
    maxAgeMs: 86400000,
    allowCredentials: true,
  };
  const { port } = await startHcm(t, [routeTo('c', {}, { cors })], [staticCluster('c', [up.port])]);
  const pre = responses((await rawExchange(port, 'OPTIONS /x HTTP/1.1\r\nhost: a\r\norigin: https://app.example.com\r\naccess-control-request-method: POST\r\n\r\n', n(1))).text)[0];
  t.is(pre.status, 200);
  t.regex(pre.head, /access-control-allow-origin: https:\/\/app.example.com/);
  t.regex(pre.head, /access-control-allow-methods: get,post/);
  t.regex(pre.head, /access-control-max-age: 86400/);
  const other = responses((await rawExchange(port, 'OPTIONS /x HTTP/1.1\r\nhost: a\r\norigin: https://evil.example\r\naccess-control-request-method: POST\r\n\r\n', n(1))).text)[0];
  t.is(other.body, 'forwarded-preflight', 'an unmatched preflight is forwarded');
  t.notRegex(other.head, /access-control-allow-origin/);
  const get = responses((await rawExchange(port, 'GET /x HTTP/1.1\r\nhost: a\r\norigin: https://app.example.com\r\n\r\n', n(1))).text)[0];
  t.is(get.body, 'data');
  t.regex(get.head, /access-control-allow-origin: https:\/\/app.example.com\r\naccess-control-allow-credentials: true\r\naccess-control-expose-headers: x-trace/);
});

test('an upstream connection idle past the cluster idle timeout is closed; the next request opens a new one', async (t) => {
  let closedAt = 0;
  const up = await rawUpstream(t, (_r, s) => {
    s.once('close', () => (closedAt = performance.now()));
    s.write(ok('hi'));
  });
  const { port, stat } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port], { idleTimeoutMs: 150 })]);
  await rawExchange(port, GET(), n(1));
  t.is(closedAt, 0, 'kept while idle for less than the timeout');
  await new Promise((r) => setTimeout(r, 600));
  t.true(closedAt > 0, 'the idle connection was closed');
  await rawExchange(port, GET(), n(1));
  t.is(up.connections, 2);
  t.is(stat('cluster.c.upstream_cx_destroy'), 1);
});

test('a retry goes to a host not tried yet (previous_hosts, as Istio sets it)', async (t) => {
  const hits: string[] = [];
  const failing = await rawUpstream(t, (_r, s) => (hits.push('failing'), s.write('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n')));
  const healthy = await rawUpstream(t, (_r, s) => (hits.push('healthy'), s.write(ok('fine'))));
  const policy = { retryOn: '5xx', numRetries: 1, retriableStatusCodes: [], retryHostPredicate: ['envoy.retry_host_predicates.previous_hosts'], hostSelectionRetryMaxAttempts: 40 };
  const { port } = await startHcm(t, [routeTo('c', { retryPolicy: policy })], [staticCluster('c', [failing.port, healthy.port], { lbPolicy: 'RANDOM' })]);
  // With one retry, every request that first meets the failing host must be answered by the other
  // one. (40 reselections: with Istio's 5, a random pick still lands on the tried host 1 time in 32.)
  for (let i = 0; i < 20; i++) t.is(responses((await rawExchange(port, GET(), n(1))).text)[0].body, 'fine');
  t.true(hits.includes('failing'), 'the failing host was tried (random picks)');
});

test('a connection the proxy ends is closed whole once the client leaves, even with bytes it held unread (Envoy\'s delayed close)', async (t) => {
  const up = await rawUpstream(t, (_r, s) => s.write(ok('no')));
  const { port, stat } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);
  const active = () => stat('http.outbound_0.0.0.0_80.downstream_cx_active');
  // An upgrade the upstream declines (200): the proxy answers, ends its side, and must not take
  // what follows as requests. The client then sends more and leaves with a FIN.
  const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  s.on('error', () => {});
  s.write('GET /ws HTTP/1.1\r\nhost: a\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n');
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString('latin1')));
  await once(s, 'end');
  t.regex(text, /^HTTP\/1\.1 200 /);
  s.end('GET / HTTP/1.1\r\nhost: a\r\n\r\n');
  await once(s, 'close');
  const deadline = Date.now() + 3000;
  while (active() !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.is(active(), 0, 'the proxy kept the connection (paused, its FIN unread) after the client left');
  t.is(up.requests.length, 1, 'the bytes after the declined upgrade were not forwarded');

  // A client that never closes: the proxy closes whole about a second after its reply. (Before
  // the delayed close this connection stayed forever; so did the first case's through a real
  // proxy (hostile_http.test.ts), which this in-process harness does not reproduce.)
  const idle = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  idle.on('error', () => {});
  idle.write('GET / HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n');
  idle.resume();
  await once(idle, 'end');
  const until = Date.now() + 3000;
  while (active() !== 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  t.is(active(), 0, 'a half-closed connection whose client stays is closed after the delay');
  idle.destroy();
});

test('pipelined requests followed by the client\'s FIN are all answered, the last with connection: close', async (t) => {
  const up = await rawUpstream(t, (r, s) => setTimeout(() => s.write(ok(r.slice(4, r.indexOf(' HTTP')))), 30));
  const { port } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);
  const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString('latin1')));
  s.end(GET('/1') + GET('/2') + GET('/3'));
  await once(s, 'end');
  const rs = responses(text);
  t.deepEqual(rs.map((r) => r.body), ['/1', '/2', '/3']);
  t.notRegex(rs[0]!.head, /connection: close/);
  t.regex(rs[2]!.head, /connection: close/);
});
