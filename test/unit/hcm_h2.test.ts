import test from 'ava';
import { connect } from 'node:http2';
import { h2Request } from '../support/h2.js';
import { rawUpstream, routeTo, startHcm, staticCluster } from '../support/hcm.js';

test('an h2c request is routed like HTTP/1.1: :authority as host, Envoy headers, access log protocol HTTP/2', async (t) => {
  const up = await rawUpstream(t, (req, s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: keep-alive\r\nx-up: 1\r\n\r\nhello'));
  const hcm = await startHcm(t, [routeTo('web')], [staticCluster('web', [up.port])], ['*'], undefined, { h2: true });
  const session = connect(`http://127.0.0.1:${hcm.port}`);
  t.teardown(() => session.close());
  const r1 = await h2Request(session, { ':path': '/a?x=1', ':authority': 'web.example' });
  const r2 = await h2Request(session, { ':method': 'POST', ':path': '/b', ':authority': 'web.example' }, 'posted body');
  t.is(Number(r1.headers[':status']), 200);
  t.is(r1.body.toString(), 'hello');
  t.is(r1.headers['x-up'], '1');
  t.is(r1.headers.server, 'legate');
  t.is(r1.headers.connection, undefined);
  t.regex(up.requests[0]!, /^GET \/a\?x=1 HTTP\/1\.1\r\n/);
  t.regex(up.requests[0]!, /\r\nhost: web\.example\r\n/);
  t.regex(up.requests[0]!, /\r\nx-request-id: /);
  // A body of no declared length goes chunked to the HTTP/1.1 upstream.
  t.regex(up.requests[1]!, /^POST \/b HTTP\/1\.1\r\n[\s\S]*transfer-encoding: chunked\r\n\r\nb\r\nposted body\r\n0\r\n\r\n$/);
  t.is(r2.body.toString(), 'hello');
  t.is(up.connections, 1, 'the upstream connection is reused');
  t.is(hcm.logged[0]!.protocol, 'HTTP/2');
  t.is(hcm.stat('http.outbound_0.0.0.0_80.downstream_cx_http2_total'), 1);
});

test('no route over h2c is 404; many concurrent streams on one connection all complete', async (t) => {
  const up = await rawUpstream(t, (req, s) => setTimeout(() => s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${req.length}\r\n\r\n${req}`), 5));
  const hcm = await startHcm(t, [routeTo('web')], [staticCluster('web', [up.port])], ['web'], undefined, { h2: true });
  const session = connect(`http://127.0.0.1:${hcm.port}`);
  t.teardown(() => session.close());
  const nr = await h2Request(session, { ':path': '/', ':authority': 'other' });
  t.is(Number(nr.headers[':status']), 404);
  const all = await Promise.all(Array.from({ length: 50 }, (_, i) => h2Request(session, { ':path': `/s${i}`, ':authority': 'web' })));
  all.forEach((r, i) => t.true(r.body.toString().startsWith(`GET /s${i} HTTP/1.1`), `stream ${i} got its own answer`));
});
