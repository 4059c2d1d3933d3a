/**
 * The uWebSockets.js front end (src/filters/network/http_connection_manager/uws/): which
 * listeners it takes, how a uWS request becomes a RequestHead, how the addon is found (and the
 * engine chosen), and UwsDownstream over a real uWS App in this process, on the same
 * HttpContext the node engine's unit tests use.
 */
import test, { type ExecutionContext } from 'ava';
import { connect } from 'node:net';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { HTTP_CONNECTION_MANAGER, type Listener } from '../../src/config/model.js';
import { TargetForm } from '../../src/filters/network/http_connection_manager/codec/index.js';
import { uwsCanServe } from '../../src/filters/network/http_connection_manager/uws/eligible.js';
import { loadUws } from '../../src/filters/network/http_connection_manager/uws/load.js';
import { requestHeadFromUws } from '../../src/filters/network/http_connection_manager/uws/uws_request.js';
import { UwsDownstream } from '../../src/filters/network/http_connection_manager/uws/uws_downstream.js';
import type { UwsHttpRequest, UwsListenSocket } from '../../src/filters/network/http_connection_manager/uws/uws_api.js';
import type { HttpContext } from '../../src/filters/network/http_connection_manager/http_context.js';
import { Flag } from '../../src/filters/network/http_connection_manager/stream_info.js';
import { chooseHttpFrontend } from '../../src/main/http_frontend.js';
import { HCM, rawExchange, rawUpstream, responses, routeTo, startHcm, staticCluster, ok } from '../support/hcm.js';

function listener(over: Partial<Listener> = {}, chain: Partial<Listener['filterChains'][0]> = {}): Listener {
  return {
    name: '0.0.0.0_8080',
    address: { address: '0.0.0.0', port: 8080 },
    trafficDirection: 'OUTBOUND',
    bindToPort: true,
    useOriginalDst: false,
    filterChains: [{ name: 'http.8080', match: {}, filters: [{ ...HCM, name: HTTP_CONNECTION_MANAGER }], ...chain }],
    ...over,
  };
}

test('the uws front end takes plain HTTP gateway listeners only', (t) => {
  t.true(uwsCanServe(listener()));
  t.false(uwsCanServe(listener({}, { tls: { mode: 'SIMPLE' } })), 'TLS termination stays on the node engine');
  t.false(uwsCanServe(listener({}, { match: { transportProtocol: 'tls', serverNames: ['a.example.com'] } })));
  t.false(uwsCanServe(listener({}, { filters: [{ name: 'envoy.filters.network.tcp_proxy', statPrefix: 's', cluster: 'c', idleTimeoutMs: 0 }] })), 'TCP');
  t.false(uwsCanServe(listener({ listenerFilters: ['envoy.filters.listener.http_inspector'] })), 'protocol detection');
  t.false(uwsCanServe(listener({ bindToPort: false })));
  t.false(uwsCanServe(listener({ useOriginalDst: true })), "the sidecar's capture listeners");
  const two = listener();
  two.filterChains.push({ ...two.filterChains[0], name: 'other' });
  t.false(uwsCanServe(two), 'several chains are chosen per connection');
});

function fakeRequest(method: string, url: string, query: string | undefined, headers: [string, string][]): UwsHttpRequest {
  return { getCaseSensitiveMethod: () => method, getUrl: () => url, getQuery: () => query, forEach: (cb) => headers.forEach(([k, v]) => cb(k, v)) };
}

test('a uWS request becomes a RequestHead: target with its query, fields in order, framing and keep-alive from the fields', (t) => {
  const get = requestHeadFromUws(fakeRequest('GET', '/a/b', 'x=1&y', [['host', 'a.example.com'], ['x-two', '1'], ['x-two', '2']]));
  t.is(get.method, 'GET');
  t.is(get.target, '/a/b?x=1&y');
  t.is(get.targetForm, TargetForm.Origin);
  t.deepEqual(get.headers, ['host', 'a.example.com', 'x-two', '1', 'x-two', '2']);
  t.is(get.contentLength, -1);
  t.false(get.chunked);
  t.true(get.keepAlive);
  t.is(get.versionMinor, 1);
  t.false(get.upgrade, 'no upgrades through this front end');
  const post = requestHeadFromUws(fakeRequest('POST', '/', '', [['host', 'a'], ['content-length', '12'], ['connection', 'close'], ['expect', '100-continue']]));
  t.is(post.target, '/');
  t.is(post.contentLength, 12);
  t.false(post.keepAlive);
  t.true(post.expectContinue, 'answered by uWS; the stream drops the field');
  const chunked = requestHeadFromUws(fakeRequest('PUT', '/u', undefined, [['host', 'a'], ['transfer-encoding', 'gzip, chunked']]));
  t.true(chunked.chunked);
  t.is(chunked.contentLength, -1);
  t.is(requestHeadFromUws(fakeRequest('GET', 'http://a.example.com/x', undefined, [])).targetForm, TargetForm.Absolute);
});

test('the addon is the package binary for this platform and ABI; a path that does not load is a reason, not a crash', (t) => {
  const missing = loadUws('/nonexistent/uws.node');
  t.true('reason' in missing);
  if ('reason' in missing) t.regex(missing.reason, /could be loaded.*nonexistent/);
  const found = loadUws();
  // The optional dependency is installed by `npm ci` on the project's machines (Node 20, linux-x64).
  t.true('uws' in found, 'reason' in found ? found.reason : '');
  if ('uws' in found) t.regex(found.path, new RegExp(`uws_${process.platform}_${process.arch}_${process.versions.modules}\\.node$`));
});

test('the engine: node unless asked; uws only on a router and only when the addon loads', (t) => {
  t.deepEqual(chooseHttpFrontend({ httpFrontend: 'node' }, 'router'), { frontend: 'node' });
  t.deepEqual(chooseHttpFrontend({ httpFrontend: 'uws' }, 'sidecar'), { frontend: 'node' });
  t.deepEqual(chooseHttpFrontend({ httpFrontend: 'uws', uwsModule: '/nonexistent/uws.node' }, 'router'), { frontend: 'node' });
  const chosen = chooseHttpFrontend({ httpFrontend: 'uws' }, 'router');
  t.is(chosen.frontend, 'uws');
  t.truthy(chosen.uwsModule);
});

/** A uWS App in this process serving `ctx` through UwsDownstream, as a worker's UwsListeners does. */
function serveUws(t: ExecutionContext, ctx: HttpContext): Promise<number> {
  const loaded = loadUws();
  if ('reason' in loaded) throw new Error(loaded.reason);
  const app = loaded.uws.App();
  app.any('/*', (res, req) => new UwsDownstream(res, req, ctx, '127.0.0.1:0').start());
  let socket: UwsListenSocket | false = false;
  app.listen('127.0.0.1', 0, (s) => (socket = s));
  t.teardown(() => app.close());
  if (!socket) throw new Error('the uWS App could not listen');
  const port = loaded.uws.us_socket_local_port(socket);
  return Promise.resolve(port);
}

/**
 * Requests one after the other on one connection, each sent once the previous answer is complete
 * (uWS closes a connection that pipelines behind a response still pending).
 */
async function oneByOne(port: number, requests: string[]): Promise<{ text: string; closed: boolean }> {
  const s = connect({ port, host: '127.0.0.1' });
  let text = '';
  let closed = false;
  s.on('error', () => {});
  s.on('close', () => (closed = true));
  for (let i = 0; i < requests.length && !closed; i++) {
    s.write(requests[i]);
    await new Promise<void>((resolve) => {
      const check = () => {
        if (responses(text).length > i || closed) {
          s.off('data', onData);
          s.off('close', check);
          resolve();
        }
      };
      const onData = (d: Buffer) => ((text += d.toString('latin1')), check());
      s.on('data', onData);
      s.on('close', check);
      check();
    });
  }
  s.destroy();
  return { text, closed };
}

const GET = (path: string, host = 'svc.local') => `GET ${path} HTTP/1.1\r\nhost: ${host}\r\n\r\n`;

test('over a real uWS App: routed and 404 NR answers on one keep-alive connection, logged as on the node engine', async (t) => {
  const up = await rawUpstream(t, (_r, s) => s.write(ok('hello', 'server: upstream\r\nconnection: keep-alive\r\ndate: Thu, 01 Jan 1970 00:00:00 GMT\r\n')));
  const { ctx, logged, stat } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])], ['known.local']);
  const port = await serveUws(t, ctx);
  const { text, closed } = await oneByOne(port, [GET('/a', 'known.local'), GET('/b', 'unknown.local'), GET('/c', 'known.local')]);
  const rs = responses(text);
  t.deepEqual(rs.map((r) => [r.status, r.body]), [[200, 'hello'], [404, ''], [200, 'hello']]);
  t.false(closed);
  t.regex(rs[0].head, /\r\nserver: legate\r\n/);
  t.regex(rs[0].head, /\r\nx-envoy-upstream-service-time: \d+/);
  t.is(rs[0].head.match(/\r\ndate:/g)?.length, 1, "one Date field (uWS's own)");
  t.notRegex(rs[0].head, /connection: keep-alive/);
  t.regex(up.requests[0].toLowerCase(), /\r\nx-request-id: [0-9a-f-]{36}\r\n/);
  t.is(logged.length, 3);
  t.is(logged[1].flags & Flag.NR, Flag.NR);
  t.is(logged[0].details, 'via_upstream');
  t.is(stat('http.outbound_0.0.0.0_80.downstream_rq_2xx'), 2);
});

/** A client that reads nothing for `pauseMs` (the socket fills), then everything until the response's end. */
async function slowRead(port: number, request: string, pauseMs: number, complete: (b: Buffer) => boolean): Promise<Buffer> {
  const s = connect({ port, host: '127.0.0.1' });
  s.pause();
  s.write(request);
  await new Promise((r) => setTimeout(r, pauseMs));
  const parts: Buffer[] = [];
  let size = 0;
  return new Promise((resolve) => {
    const timer = setTimeout(() => (s.destroy(), resolve(Buffer.concat(parts))), 10_000);
    s.on('data', (d: Buffer) => {
      parts.push(d);
      size += d.length;
      const all = Buffer.concat(parts, size);
      if (complete(all)) {
        clearTimeout(timer);
        s.destroy();
        resolve(all);
      }
    });
    s.resume();
  });
}

const BIG = 8 * 1024 * 1024;
const bigBody = Buffer.alloc(BIG);
for (let i = 0; i < BIG; i += 4) bigBody.writeUInt32LE((i * 2654435761) >>> 0, i);
const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('backpressure: 8 MiB with a declared length to a client that stops reading arrives whole, content-length framed', async (t) => {
  const up = await rawUpstream(t, (_r, s) => {
    s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${BIG}\r\n\r\n`);
    s.write(bigBody);
  });
  const { ctx, logged } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);
  const port = await serveUws(t, ctx);
  const reply = await slowRead(port, GET('/big'), 400, (b) => {
    const end = b.indexOf('\r\n\r\n');
    return end > 0 && b.length >= end + 4 + BIG;
  });
  const end = reply.indexOf('\r\n\r\n');
  t.regex(reply.subarray(0, end).toString('latin1'), new RegExp(`Content-Length: ${BIG}`, 'i'));
  t.is(digest(reply.subarray(end + 4)), digest(bigBody));
  t.is(logged[0]?.bytesSent, BIG);
});

test('backpressure: 8 MiB of unknown length (read until close upstream) goes out chunked and whole', async (t) => {
  const up = await rawUpstream(t, (_r, s) => {
    s.write('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n');
    s.end(bigBody);
  });
  const { ctx } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);
  const port = await serveUws(t, ctx);
  const reply = await slowRead(port, GET('/big'), 400, (b) => b.subarray(-5).toString('latin1') === '0\r\n\r\n');
  const end = reply.indexOf('\r\n\r\n');
  t.regex(reply.subarray(0, end).toString('latin1'), /transfer-encoding: chunked/i);
  // De-chunk.
  const parts: Buffer[] = [];
  let off = end + 4;
  for (;;) {
    const eol = reply.indexOf('\r\n', off);
    const n = parseInt(reply.subarray(off, eol).toString('latin1'), 16);
    if (!n) break;
    parts.push(reply.subarray(eol + 2, eol + 2 + n));
    off = eol + 2 + n + 2;
  }
  t.is(digest(Buffer.concat(parts)), digest(bigBody));
});

test('a client that goes away mid-response is a downstream reset (DC), and the upstream request is cancelled', async (t) => {
  let upstreamClosed = false;
  const up = await rawUpstream(t, (_r, s) => {
    s.on('close', () => (upstreamClosed = true));
    s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${BIG}\r\n\r\n`);
    s.write(bigBody.subarray(0, 1024));
  });
  const { ctx, logged } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);
  const port = await serveUws(t, ctx);
  await rawExchange(port, GET('/hang'), (text) => text.includes('\r\n\r\n'));
  for (let i = 0; i < 50 && logged.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  t.is(logged.length, 1);
  t.is(logged[0].flags & Flag.DC, Flag.DC);
  for (let i = 0; i < 50 && !upstreamClosed; i++) await new Promise((r) => setTimeout(r, 20));
  t.true(upstreamClosed, 'the unfinished upstream exchange is not kept');
});

// The upstream pool sends a request by uncorking its socket on the next tick: that must not wait
// for an unrelated event when the request arrived through a uWS callback.
test('next-tick work queued inside a uWS request handler runs at once', async (t) => {
  const loaded = loadUws();
  if ('reason' in loaded) return t.fail(loaded.reason);
  const app = loaded.uws.App();
  // The answer is sent from a next-tick callback, as the upstream pool sends a request (it uncorks on the next tick).
  app.any('/*', (res) => {
    res.onAborted(() => {});
    process.nextTick(() => res.cork(() => res.end('tick ran')));
  });
  let socket: UwsListenSocket | false = false;
  app.listen('127.0.0.1', 0, (s) => (socket = s));
  t.teardown(() => app.close());
  if (!socket) return t.fail('no listen socket');
  const port = loaded.uws.us_socket_local_port(socket);
  // curl in a child process: nothing else in this process wakes Node while it waits.
  const body = await new Promise<string>((resolve) => execFile('curl', ['-s', '--max-time', '3', `http://127.0.0.1:${port}/`], (_e, out) => resolve(out)));
  t.is(body, 'tick ran');
});
