/**
 * An HTTPS upstream for TLS tests: `--listen port=name` (repeatable), one certificate (`--cert`,
 * `--key`). Every request gets JSON `{name, port, sni, alpn, tls, host, peer, url, cert}` — the
 * SNI and protocol the server itself negotiated, so a test sees that the client's handshake
 * reached it untouched. Prints `{"ev":"listening","port":N,…}` per port.
 *
 * `--sni name=cert.pem,key.pem` (repeatable) makes it a name-based virtual host, as most public
 * HTTPS servers are: each listed SNI gets its certificate (`cert` in the answer is that name),
 * any other SNI the `--cert` one (`cert: "default"`), and a ClientHello with no SNI fails the
 * handshake (there is no certificate to choose).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';

const args = process.argv.slice(2);
const listens: [number, string][] = [];
let cert = '';
let key = '';
const byName = new Map<string, SecureContext>();
for (let i = 0; i < args.length; i += 2) {
  const [flag, value] = [args[i], args[i + 1]];
  if (flag === '--listen') {
    const [port, name] = value.split('=');
    listens.push([Number(port), name ?? port]);
  } else if (flag === '--cert') cert = readFileSync(value, 'utf8');
  else if (flag === '--key') key = readFileSync(value, 'utf8');
  else if (flag === '--sni') {
    const [name, files] = value.split('=');
    const [certFile, keyFile] = files.split(',');
    byName.set(name, createSecureContext({ cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') }));
  } else throw new Error(`unknown flag ${flag}`);
}

// Virtual hosts: no default certificate, so a handshake without SNI has nothing to present.
const fallback = byName.size > 0 ? createSecureContext({ cert, key }) : undefined;
const certificates = fallback
  ? { SNICallback: (name: string, done: (err: Error | null, ctx?: SecureContext) => void) => done(null, byName.get(name) ?? fallback) }
  : { cert, key };

for (const [port, name] of listens) {
  const server = createServer({ ...certificates, ALPNProtocols: ['http/1.1'] }, (req, res) => {
    const socket = req.socket as TLSSocket;
    const sni = socket.servername || null;
    const body = JSON.stringify({ name, port, sni, alpn: socket.alpnProtocol || null, tls: socket.getProtocol(), host: req.headers.host ?? null, peer: socket.remoteAddress ?? null, url: req.url, cert: sni && byName.has(sni) ? sni : 'default' });
    res.writeHead(200, { 'content-type': 'application/json', 'x-server-name': name });
    res.end(body);
  });
  server.on('tlsClientError', (err) => console.log(JSON.stringify({ ev: 'tls_error', port, error: err.message })));
  server.listen(port, '0.0.0.0', () => console.log(JSON.stringify({ ev: 'listening', host: '0.0.0.0', port, mode: 'https' })));
}
