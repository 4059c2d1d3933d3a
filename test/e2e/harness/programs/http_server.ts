/**
 * HTTP test server for e2e tests:
 * `node http_server.js --listen HOST:PORT [--name NAME] [--keep-alive-ms MS] [--idle-close-ms MS]`
 * (--keep-alive-ms: Node's keepAliveTimeout, default 60 s, to which Node adds a second;
 * --idle-close-ms: close a connection exactly MS ms after its last answer, to race requests).
 * By default answers every request with 200 and a JSON report of what it received and from
 * whom: {name, method, url, headers, peer, peerPort, local, localPort, bodyBytes, bodySha256};
 * the same report is printed as one JSON line on stdout ({ev: 'request', …}), every
 * accepted connection as {ev: 'connection', port, peer, peerPort}, the peer's FIN as
 * {ev: 'end', …} and its end as {ev: 'close', …}. Every response carries `x-server-name: NAME`.
 *
 * The query string can ask for other behaviour (read after the request body has arrived):
 *   status=N            answer N instead of 200
 *   fail=N&key=K        the first N requests carrying key K answer `status` (default 503),
 *                       later ones 200 — an upstream that fails the first attempt(s)
 *   failon=NAME         only the server named NAME answers `status` (default 500), others
 *                       200 — one bad host among several (outlier detection)
 *   delay=MS            wait MS ms before answering (with delayfirst=N&key=K: only the
 *                       first N requests carrying key K wait)
 *   size=N              answer N pseudo-random bytes instead of the report, with
 *                       `x-body-sha256` (and without content-length when `chunked=1`)
 *   hdr=NAME:VALUE      add a response header (repeatable)
 *   reset=N             close the connection without answering (with key=K: only the first
 *                       N requests carrying key K; without a key: always)
 *   resetmid=N          send the head (content-length 2N) and N body bytes, then reset (RST)
 *   hang=1              never answer (the connection stays open)
 *   garbage=1           answer bytes that are not HTTP, then close
 *   double=1            answer, and in the same write a second response no request asked for
 *                       (`x-smuggled: 1`, body `smuggled`); the connection stays open
 * An upgrade request (WebSocket) is answered 101 and then every byte is echoed upper-cased
 * until the peer ends or sends "bye" ({ev: 'upgrade', url, headers} on stdout). With
 * `upgrade=decline` in its query it is answered 200 instead (no tunnel), and every byte that
 * still arrives on that connection is reported ({ev: 'after-upgrade', bytes}).
 * Every connection's close reports the bytes read on it (`rx`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { emit, hostPort, option } from './cli_args.js';

const listen = option('--listen');
if (!listen) throw new Error('usage: http_server.js --listen HOST:PORT [--name NAME] [--keep-alive-ms MS]');
const name = option('--name') ?? 'http';
const { host, port } = hostPort(listen);
/** Requests seen per `key` (for fail=N). */
const seen = new Map<string, number>();

function sendBody(res: ServerResponse, status: number, size: number, chunked: boolean, headers: Record<string, string>): void {
  const body = randomBytes(size);
  const sha = createHash('sha256').update(body).digest('hex');
  res.writeHead(status, { ...headers, 'content-type': 'application/octet-stream', 'x-body-sha256': sha, ...(chunked ? {} : { 'content-length': String(size) }) });
  if (!chunked) return void res.end(body);
  // Several writes, so the response really is chunked.
  const step = 256 * 1024;
  for (let off = 0; off < size; off += step) res.write(body.subarray(off, Math.min(size, off + step)));
  res.end();
}

const server = createServer((req, res) => {
  const hash = createHash('sha256');
  let bodyBytes = 0;
  req.on('data', (b: Buffer) => {
    bodyBytes += b.length;
    hash.update(b);
  });
  req.on('end', () => {
    const report = {
      name,
      method: req.method,
      url: req.url,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      peer: req.socket.remoteAddress,
      peerPort: req.socket.remotePort,
      local: req.socket.localAddress,
      localPort: req.socket.localPort,
      bodyBytes,
      bodySha256: hash.digest('hex'),
    };
    emit({ ev: 'request', port, ...report });
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    let status = Number(q.get('status') ?? 200);
    const key = q.get('key');
    // How many requests with this key, this one included.
    const nth = key === null ? 0 : (seen.get(key) ?? 0) + 1;
    if (key !== null) seen.set(key, nth);
    if (q.has('fail') && key !== null) status = nth <= Number(q.get('fail')) ? Number(q.get('status') ?? 503) : 200;
    if (q.has('failon')) status = q.get('failon') === name ? Number(q.get('status') ?? 500) : 200;
    const headers: Record<string, string> = { 'x-server-name': name };
    for (const h of q.getAll('hdr')) {
      const i = h.indexOf(':');
      headers[h.slice(0, i)] = h.slice(i + 1);
    }
    const answer = () => {
      if (q.has('double')) {
        const body = JSON.stringify(report) + '\n';
        const first = `HTTP/1.1 200 OK\r\nx-server-name: ${name}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
        return void req.socket.write(`${first}HTTP/1.1 200 OK\r\nx-smuggled: 1\r\ncontent-length: 8\r\n\r\nsmuggled`);
      }
      if (q.has('size')) return sendBody(res, status, Number(q.get('size')), q.get('chunked') === '1', headers);
      const body = JSON.stringify(report) + '\n';
      res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    };
    if (q.has('hang')) return;
    if (q.has('garbage')) return void req.socket.end('SSH-2.0-OpenSSH_9.2 not http\r\n\r\n');
    if (q.has('resetmid')) {
      const n = Number(q.get('resetmid'));
      res.writeHead(200, { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(2 * n) });
      res.write(randomBytes(n), () => setTimeout(() => req.socket.resetAndDestroy(), 50));
      return;
    }
    if (q.has('reset') && (key === null || nth <= Number(q.get('reset')))) {
      req.socket.destroy();
      return;
    }
    const delayed = !q.has('delayfirst') || (key !== null && nth <= Number(q.get('delayfirst')));
    const delay = delayed ? Number(q.get('delay') ?? 0) : 0;
    if (delay > 0) setTimeout(answer, delay);
    else answer();
  });
});
// Upgrade requests (WebSocket and the like) get a 101 and an echo of every byte, upper-cased, until the peer ends.
server.on('upgrade', (req, socket, head: Buffer) => {
  emit({ ev: 'upgrade', port, url: req.url, headers: req.headers });
  if (new URL(req.url ?? '/', 'http://x').searchParams.get('upgrade') === 'decline') {
    socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 8\r\nx-server-name: ${name}\r\n\r\ndeclined`);
    const after = (b: Buffer) => emit({ ev: 'after-upgrade', port, bytes: b.length });
    if (head.length > 0) after(head);
    socket.on('data', after);
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
    return;
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${req.headers.upgrade}\r\nconnection: upgrade\r\nx-server-name: ${name}\r\n\r\n`);
  // "bye" ends the conversation from the server's side.
  const echo = (b: Buffer) => {
    const text = b.toString('latin1');
    socket.write(text.toUpperCase(), 'latin1');
    if (text.includes('bye')) socket.end();
  };
  if (head.length > 0) echo(head);
  socket.on('data', echo);
  socket.on('end', () => socket.end());
  socket.on('error', () => {});
});
const idleCloseMs = Number(option('--idle-close-ms') ?? 0);
const idleTimers = new WeakMap<object, NodeJS.Timeout>();
if (idleCloseMs > 0) {
  server.on('request', (req, res) => {
    clearTimeout(idleTimers.get(req.socket));
    res.on('finish', () => idleTimers.set(req.socket, setTimeout(() => req.socket.end(), idleCloseMs)));
  });
}
server.on('connection', (s) => {
  const peer = { peer: s.remoteAddress, peerPort: s.remotePort };
  emit({ ev: 'connection', port, ...peer });
  // The peer's FIN, logged as soon as it is read ('close' comes only after this side ends too).
  s.on('end', () => emit({ ev: 'end', port, ...peer }));
  s.on('close', () => emit({ ev: 'close', port, ...peer, rx: s.bytesRead }));
});
server.on('error', (e) => {
  emit({ ev: 'error', port, error: e.message });
  process.exit(1);
});
// Node's defaults close idle keep-alive connections after 5 s; the proxy's pool keeps them for an hour.
server.keepAliveTimeout = Number(option('--keep-alive-ms') ?? 60_000);
server.listen(port, host, () => emit({ ev: 'listening', host, port, mode: 'http' }));
process.on('SIGTERM', () => process.exit(0));
