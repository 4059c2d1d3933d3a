/**
 * TCP test server for e2e tests: `node tcp_server.js --listen HOST:PORT:MODE …`.
 * Modes, per listening port:
 *   echo    writes back every byte it reads; ends its side after the peer's FIN.
 *   digest  reads until the peer's FIN, then replies one JSON line
 *           {rx, sha256, peer, peerPort} and ends — a reply that can only arrive over a
 *           half-closed connection.
 * Every event is one JSON line on stdout: listening, accept {id, mode, local, localPort,
 * peer, peerPort}, close {id, rx, tx, sha256, gotEnd, error?}.
 */
import { createHash } from 'node:crypto';
import { createServer, type Socket } from 'node:net';

const emit = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');
let nextId = 1;

function serve(host: string, port: number, mode: string): void {
  const server = createServer({ allowHalfOpen: true }, (sock: Socket) => {
    const id = nextId++;
    const hash = createHash('sha256');
    let rx = 0;
    let gotEnd = false;
    let error: string | undefined;
    const peer = sock.remoteAddress;
    const peerPort = sock.remotePort;
    emit({ ev: 'accept', id, mode, port, local: sock.localAddress, localPort: sock.localPort, peer, peerPort });
    sock.on('data', (b: Buffer) => {
      rx += b.length;
      hash.update(b);
      if (mode === 'echo' && !sock.write(b)) {
        sock.pause();
        sock.once('drain', () => sock.resume());
      }
    });
    sock.on('end', () => {
      gotEnd = true;
      if (mode === 'digest') sock.end(JSON.stringify({ rx, sha256: hash.copy().digest('hex'), peer, peerPort }) + '\n');
      else sock.end();
    });
    sock.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    sock.on('close', () => emit({ ev: 'close', id, port, rx, tx: sock.bytesWritten, sha256: hash.digest('hex'), gotEnd, error }));
  });
  server.on('error', (e) => {
    emit({ ev: 'error', port, error: e.message });
    process.exit(1);
  });
  server.listen(port, host, () => emit({ ev: 'listening', host, port, mode }));
}

const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] !== '--listen') throw new Error(`unknown argument ${args[i]}`);
  const [host, port, mode] = args[++i].split(':');
  if (mode !== 'echo' && mode !== 'digest') throw new Error(`unknown mode ${mode}`);
  serve(host, Number(port), mode);
}
process.on('SIGTERM', () => process.exit(0));
