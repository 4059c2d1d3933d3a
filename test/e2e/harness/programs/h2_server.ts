/**
 * HTTP/2 (h2c, prior knowledge) test server for e2e tests:
 * `node h2_server.js --listen HOST:PORT [--name NAME]`. Answers every stream with 200 and a JSON
 * report {name, method, path, authority, headers, bodyBytes, session} (also printed on stdout
 * as {ev: 'request', …}); every new session prints {ev: 'session', n}. Query parameters:
 *   size=N      answer N pseudo-random bytes instead, with `x-body-sha256`
 *   delay=MS    wait MS ms before answering
 *   trailers=1  end the response with trailers (`x-trailer: done`)
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Http2Session } from 'node:http2';
import { emit, hostPort, option } from './cli_args.js';

const listen = option('--listen');
if (!listen) throw new Error('usage: h2_server.js --listen HOST:PORT [--name NAME]');
const name = option('--name') ?? 'h2';
const { host, port } = hostPort(listen);
const sessions = new WeakMap<Http2Session, number>();
let sessionCount = 0;

const server = createServer();
server.on('session', (s) => {
  sessions.set(s, ++sessionCount);
  emit({ ev: 'session', n: sessionCount });
});
server.on('stream', (stream, headers) => {
  let bodyBytes = 0;
  stream.on('data', (d: Buffer) => (bodyBytes += d.length));
  stream.on('error', () => {});
  stream.on('end', () => {
    const url = new URL(String(headers[':path']), 'http://x');
    const q = url.searchParams;
    const report = { name, method: headers[':method'], path: headers[':path'], authority: headers[':authority'], headers: { ...headers }, bodyBytes, session: sessions.get(stream.session!) };
    emit({ ev: 'request', ...report });
    const answer = () => {
      if (stream.destroyed) return;
      const trailers = q.get('trailers') === '1';
      const size = q.get('size');
      if (size !== null) {
        const body = randomBytes(Number(size));
        stream.respond({ ':status': 200, 'x-server-name': name, 'x-body-sha256': createHash('sha256').update(body).digest('hex'), 'content-length': String(body.length) }, { waitForTrailers: trailers });
        if (trailers) stream.on('wantTrailers', () => stream.sendTrailers({ 'x-trailer': 'done' }));
        // Several writes: flow control has something to hold back.
        for (let off = 0; off < body.length; off += 64 * 1024) stream.write(body.subarray(off, off + 64 * 1024));
        stream.end();
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-server-name': name }, { waitForTrailers: trailers });
      if (trailers) stream.on('wantTrailers', () => stream.sendTrailers({ 'x-trailer': 'done' }));
      stream.end(JSON.stringify(report));
    };
    const delay = Number(q.get('delay') ?? 0);
    if (delay > 0) setTimeout(answer, delay);
    else answer();
  });
});
server.listen(port, host, () => emit({ ev: 'listening', port }));
process.on('SIGTERM', () => process.exit(0));
