/**
 * An HTTPS upstream for TLS passthrough tests: `--listen port=name` (repeatable), one
 * certificate (`--cert`, `--key`). Every request gets JSON `{name, port, sni, alpn, tls, host, peer, url}` — the
 * SNI and protocol the server itself negotiated, so a test sees that the client's handshake
 * reached it untouched. Prints `{"ev":"listening","port":N,…}` per port.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { TLSSocket } from 'node:tls';

const args = process.argv.slice(2);
const listens: [number, string][] = [];
let cert = '';
let key = '';
for (let i = 0; i < args.length; i += 2) {
  const [flag, value] = [args[i], args[i + 1]];
  if (flag === '--listen') {
    const [port, name] = value.split('=');
    listens.push([Number(port), name ?? port]);
  } else if (flag === '--cert') cert = readFileSync(value, 'utf8');
  else if (flag === '--key') key = readFileSync(value, 'utf8');
  else throw new Error(`unknown flag ${flag}`);
}

for (const [port, name] of listens) {
  const server = createServer({ cert, key, ALPNProtocols: ['http/1.1'] }, (req, res) => {
    const socket = req.socket as TLSSocket;
    const body = JSON.stringify({ name, port, sni: socket.servername || null, alpn: socket.alpnProtocol || null, tls: socket.getProtocol(), host: req.headers.host ?? null, peer: socket.remoteAddress ?? null, url: req.url });
    res.writeHead(200, { 'content-type': 'application/json', 'x-server-name': name });
    res.end(body);
  });
  server.listen(port, '0.0.0.0', () => console.log(JSON.stringify({ ev: 'listening', host: '0.0.0.0', port, mode: 'https' })));
}
