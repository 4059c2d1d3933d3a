/**
 * HTTP test server for e2e tests: `node http_server.js --listen HOST:PORT`. Answers every
 * request with 200 and a JSON report of what it received and from whom:
 * {method, url, headers, peer, peerPort, local, localPort, bodyBytes, bodySha256}; the same
 * report is printed as one JSON line on stdout ({ev: 'request', …}).
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';

const emit = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');
const args = process.argv.slice(2);
if (args[0] !== '--listen' || !args[1]) throw new Error('usage: http_server.js --listen HOST:PORT');
const [host, portText] = args[1].split(':');
const port = Number(portText);

const server = createServer((req, res) => {
  const hash = createHash('sha256');
  let bodyBytes = 0;
  req.on('data', (b: Buffer) => {
    bodyBytes += b.length;
    hash.update(b);
  });
  req.on('end', () => {
    const report = {
      method: req.method,
      url: req.url,
      headers: req.headers,
      peer: req.socket.remoteAddress,
      peerPort: req.socket.remotePort,
      local: req.socket.localAddress,
      localPort: req.socket.localPort,
      bodyBytes,
      bodySha256: hash.digest('hex'),
    };
    emit({ ev: 'request', port, ...report });
    const body = JSON.stringify(report) + '\n';
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.on('error', (e) => {
  emit({ ev: 'error', port, error: e.message });
  process.exit(1);
});
server.listen(port, host, () => emit({ ev: 'listening', host, port, mode: 'http' }));
process.on('SIGTERM', () => process.exit(0));
