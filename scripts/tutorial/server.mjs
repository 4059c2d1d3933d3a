#!/usr/bin/env node
// The tutorial's stand-in workloads: a tiny HTTP server that names itself (reviews v1/v2/v3),
// an echo of what it was asked (the "external" API; `https` the same over TLS, naming the SNI
// it was sent), or a TCP banner (the databases).
// Usage: server.mjs http|echo|banner NAME ADDRESS:PORT | server.mjs https NAME ADDRESS:PORT CERT KEY
import { readFileSync } from 'node:fs';
import { createServer as http } from 'node:http';
import { createServer as https } from 'node:https';
import { createServer as tcp } from 'node:net';

const [mode, name, listen, cert, key] = process.argv.slice(2);
const colon = listen?.lastIndexOf(':') ?? -1;
if (!['http', 'echo', 'https', 'banner'].includes(mode) || !name || colon < 0 || (mode === 'https' && !key)) {
  console.error('usage: server.mjs http|echo|banner NAME ADDRESS:PORT | server.mjs https NAME ADDRESS:PORT CERT KEY');
  process.exit(2);
}
const host = listen.slice(0, colon);
const port = Number(listen.slice(colon + 1));

/** The echo tells who connected: the proof of which proxy (sidecar or egress gateway) sent it, and over what. */
function answer(req, res) {
  res.setHeader('content-type', 'text/plain');
  const tls = req.socket.encrypted ? ` over TLS, SNI ${req.socket.servername || '(none)'}` : '';
  res.end(mode === 'http' ? `${name}\n` : `${name}: ${req.method} ${req.headers.host}${req.url} from ${req.socket.remoteAddress}${tls}\n`);
}

const server =
  mode === 'banner'
    ? tcp((s) => s.end(`${name}\n`))
    : mode === 'https'
      ? https({ cert: readFileSync(cert), key: readFileSync(key) }, answer)
      : http(answer);
server.listen(port, host, () => console.log(`${name} listening on ${listen}`));
