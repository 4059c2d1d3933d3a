/**
 * The bulk-transfer upstream: a client sends an 8-byte big-endian length, the server streams
 * that many bytes (from one preallocated buffer, with backpressure) and half-closes.
 * Usage: node tcp_source.js PORT
 */
import { createServer, type Socket } from 'node:net';

const CHUNK = Buffer.alloc(1 << 20, 0x5a);

function stream(socket: Socket, total: number): void {
  let left = total;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      if (!socket.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void socket.once('drain', pump);
    }
    socket.end();
  };
  pump();
}

const port = Number(process.argv[2]);
createServer({ allowHalfOpen: true }, (socket) => {
  let header = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    header = Buffer.concat([header, chunk]);
    if (header.length < 8) return;
    socket.off('data', onData);
    socket.resume();
    stream(socket, Number(header.readBigUInt64BE(0)));
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
}).listen({ port, host: '127.0.0.1', backlog: 4096 });
