/**
 * A lean HTTP/1.1 upstream on raw sockets (used when nginx is not installed, and in smoke
 * runs): canned responses per path, keep-alive, `Connection: close` honoured, request
 * bodies (Content-Length) read and discarded. Usage: node http_upstream.js PORT [PORT…]
 * Several ports make several upstreams in one process; each counts its own requests and
 * reports them at /upstream-status in nginx's stub_status format (load-balancing scenarios).
 */
import { createServer, type Socket } from 'node:net';
import { BODIES } from './bodies.js';

const CRLF2 = Buffer.from('\r\n\r\n');

function response(body: Buffer, close: boolean): Buffer {
  const head =
    `HTTP/1.1 200 OK\r\nServer: bench-upstream\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n` +
    `Connection: ${close ? 'close' : 'keep-alive'}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

const routes = new Map<string, { keepAlive: Buffer; close: Buffer }>();
for (const [path, body] of Object.entries(BODIES)) routes.set(path, { keepAlive: response(body, false), close: response(body, true) });
const notFound = Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');

/** nginx stub_status's body, so that one parser reads both upstreams; only the request count is real. */
function statusResponse(requests: number): Buffer {
  return response(Buffer.from(`Active connections: 0 \nserver accepts handled requests\n 0 0 ${requests} \nReading: 0 Writing: 0 Waiting: 0 \n`), false);
}

function serve(socket: Socket, counter: { requests: number }): void {
  socket.setNoDelay(true);
  let buf: Buffer = Buffer.alloc(0);
  let skip = 0; // request-body bytes still to discard
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, buf.length);
        skip -= n;
        buf = buf.subarray(n);
        if (skip > 0) return;
      }
      const end = buf.indexOf(CRLF2);
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      buf = buf.subarray(end + 4);
      const path = head.slice(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
      const lower = head.toLowerCase();
      const cl = /\r\ncontent-length:\s*(\d+)/.exec(lower);
      skip = cl ? Number(cl[1]) : 0;
      const close = lower.includes('\r\nconnection: close');
      counter.requests++;
      if (path === '/upstream-status') {
        socket.write(statusResponse(counter.requests));
        continue;
      }
      const route = routes.get(path);
      if (!route) return void socket.end(notFound);
      if (close) return void socket.end(route.close);
      socket.write(route.keepAlive);
    }
  });
  socket.on('error', () => socket.destroy());
}

for (const port of process.argv.slice(2).map(Number)) {
  const counter = { requests: 0 };
  createServer({ noDelay: true }, (socket) => serve(socket, counter)).listen({ port, host: '127.0.0.1', backlog: 4096 });
}
