/**
 * The HTTP connection manager's limits (issue 10 item 2), on a real loopback HCM with a raw
 * upstream: request_headers_timeout, stream_idle_timeout, and the per-connection buffer limit
 * that stops a client pipelining without reading from growing the proxy's memory.
 */
import test from 'ava';
import { connect } from 'node:net';
import { once } from 'node:events';
import { HCM, rawExchange, rawUpstream, responses, routeTo, startHcm, staticCluster, ok } from '../support/hcm.js';

const GET = (path = '/') => `GET ${path} HTTP/1.1\r\nhost: svc.local\r\n\r\n`;
const n = (count: number) => (text: string) => responses(text).length >= count;

test('request_headers_timeout: a head still incomplete gets Envoy\'s 408 and the connection closes; nothing upstream', async (t) => {
  const up = await rawUpstream(t, (_r, s) => s.write(ok()));
  const { port, stat, logged } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])], ['*'], { ...HCM, requestHeadersTimeoutMs: 150 });
  const { text, closed } = await rawExchange(port, 'GET / HTTP/1.1\r\nhost: svc.local\r\nx-slow: 1\r\n', () => false, 5000);
  const [r] = responses(text);
  t.is(r?.status, 408, text);
  t.is(r.body, 'request header timeout');
  t.regex(r.head, /\r\nconnection: close/);
  t.true(closed);
  t.is(up.connections, 0);
  t.is(stat('http.outbound_0.0.0.0_80.downstream_rq_header_timeout'), 1);
  t.is(logged[0].details, 'request_header_timeout');
  // A complete head in time is not affected, nor an idle keep-alive connection between requests.
  const fine = await rawExchange(port, GET(), n(1));
  t.is(responses(fine.text)[0].status, 200);
});

test('request_headers_timeout 0 (Envoy\'s and Istio\'s default) never fires', async (t) => {
  const up = await rawUpstream(t, (_r, s) => s.write(ok()));
  const { port } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);
  const { text, closed } = await rawExchange(port, 'GET / HTTP/1.1\r\nhost: svc.local\r\n', () => false, 400);
  t.is(text, '');
  t.false(closed);
});

test('stream_idle_timeout: no upstream response is Envoy\'s 408 "stream timeout" with flag SI', async (t) => {
  const up = await rawUpstream(t, () => {});
  const { port, stat, logged } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])], ['*'], { ...HCM, streamIdleTimeoutMs: 200 });
  const { text } = await rawExchange(port, GET(), n(1), 5000);
  const [r] = responses(text);
  t.is(r?.status, 408, text);
  t.is(r.body, 'stream timeout');
  t.is(stat('http.outbound_0.0.0.0_80.downstream_rq_idle_timeout'), 1);
  t.is(logged[0].details, 'stream_idle_timeout');
  t.true((logged[0].flags & (1 << 14)) !== 0, 'SI flag');
});

test('stream_idle_timeout is idle time, not total time: a response trickling in faster than the timeout completes', async (t) => {
  // 10 bytes 150 ms apart: 1.5 s in all, never 1 s without a byte.
  const up = await rawUpstream(t, (_r, s) => {
    s.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n');
    let i = 0;
    const tick = setInterval(() => {
      s.write('abcdefghij'[i++]);
      if (i === 10) clearInterval(tick);
    }, 150);
  });
  const { port } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])], ['*'], { ...HCM, streamIdleTimeoutMs: 1000 });
  const { text } = await rawExchange(port, GET(), n(1), 8000);
  t.is(responses(text)[0]?.body, 'abcdefghij');
});

test('a client pipelining 10k requests without reading: the proxy stops taking requests once its buffer is full, then answers every one', async (t) => {
  const body = 'x'.repeat(4096);
  const up = await rawUpstream(t, (_r, s) => s.write(ok(body)));
  const { port } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);
  const total = 10_000;
  const s = connect({ port, host: '127.0.0.1' });
  s.pause();
  s.write(GET().repeat(total), 'latin1');
  // Unread, the answers would take ~40 MiB; the socket buffers plus Envoy's 1 MiB limit hold far fewer.
  let last = -1;
  while (last !== up.requests.length) {
    last = up.requests.length;
    await new Promise((r) => setTimeout(r, 300));
  }
  t.true(up.requests.length < total / 2, `the proxy stalled at ${up.requests.length} of ${total} requests`);
  // Reading now: every answer arrives, in order, none lost.
  let count = 0;
  let carry = '';
  const want = `HTTP/1.1 200 OK`;
  s.on('data', (d: Buffer) => {
    const text = carry + d.toString('latin1');
    let i = text.indexOf(want);
    while (i >= 0) {
      count++;
      i = text.indexOf(want, i + want.length);
    }
    carry = text.slice(-want.length + 1);
  });
  s.resume();
  while (count < total) {
    const more = await Promise.race([once(s, 'data').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
    if (!more) break;
  }
  t.is(count, total);
  t.is(up.requests.length, total);
  s.destroy();
});

test('a client that stops reading does not hold up others on a shared upstream connection', async (t) => {
  // One upstream connection (maxConnections 1), so both clients use it. The first client's
  // responses met its full socket: each paused the connection's reads, then completed. Paused,
  // the connection went back to the pool, and the next request on it waited for that client to
  // read: the second client was never answered.
  const body = 'x'.repeat(4096);
  const up = await rawUpstream(t, (_r, s) => s.write(ok(body)));
  const one = { maxConnections: 1, maxPendingRequests: 4294967295, maxRequests: 4294967295, maxRetries: 4294967295, trackRemaining: false };
  const { port } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port], { circuitBreakers: one })]);
  const slow = connect({ port, host: '127.0.0.1' });
  slow.pause();
  slow.write(GET().repeat(10_000), 'latin1');
  t.teardown(() => slow.destroy());
  let last = -1;
  while (last !== up.requests.length) {
    last = up.requests.length;
    await new Promise((r) => setTimeout(r, 300));
  }
  const other = await rawExchange(port, GET(), n(1), 3000);
  t.is(responses(other.text)[0]?.status, 200, 'the second client is answered while the first does not read');
  t.is(up.connections, 1);
});

test('a pipelined flood answered by the proxy itself (direct responses) is bounded too: it stops reading once 1 MiB of answers wait', async (t) => {
  const direct = { ...routeTo('c'), directResponse: { status: 200, body: 'x'.repeat(32 * 1024) } };
  const { port, stat } = await startHcm(t, [direct], [staticCluster('c', [1])]);
  const total = 3_000;
  const s = connect({ port, host: '127.0.0.1' });
  s.pause();
  s.write(GET().repeat(total), 'latin1');
  const rq = () => stat('http.outbound_0.0.0.0_80.downstream_rq_total');
  let last = -1;
  while (last !== rq()) {
    last = rq();
    await new Promise((r) => setTimeout(r, 300));
  }
  // A direct response ends its stream inside the parse loop of one read, and one 64 KiB read holds
  // ~1,870 of these requests: the limit must stop that loop too (it once answered the whole read,
  // ~60 MiB, into the proxy's memory). 1 MiB plus what the kernel's socket buffers take is a few
  // hundred answers of 32 KiB.
  t.true(rq() < 1_000, `the proxy stalled at ${rq()} of ${total} requests`);
  s.resume();
  while (rq() < total) await new Promise((r) => setTimeout(r, 100));
  t.is(rq(), total, 'all answered once the client reads');
  s.destroy();
});
