#!/usr/bin/env node
// The tutorial's stand-in workloads: a tiny HTTP server that names itself (reviews v1/v2/v3),
// an echo of what it was asked (the "external" API), or a TCP banner (the databases).
// Usage: server.mjs http|echo|banner NAME ADDRESS:PORT
import { createServer as http } from 'node:http';
import { createServer as tcp } from 'node:net';

const [mode, name, listen] = process.argv.slice(2);
const colon = listen?.lastIndexOf(':') ?? -1;
if (!['http', 'echo', 'banner'].includes(mode) || !name || colon < 0) {
  console.error('usage: server.mjs http|echo|banner NAME ADDRESS:PORT');
  process.exit(2);
}
const host = listen.slice(0, colon);
const port = Number(listen.slice(colon + 1));

const server =
  mode === 'banner'
    ? tcp((s) => s.end(`${name}\n`))
    : http((req, res) => {
        res.setHeader('content-type', 'text/plain');
        // The echo tells who connected: the proof of which proxy (sidecar or egress gateway) sent it.
        const body = mode === 'echo' ? `${name}: ${req.method} ${req.headers.host}${req.url} from ${req.socket.remoteAddress}\n` : `${name}\n`;
        res.end(body);
      });
server.listen(port, host, () => console.log(`${name} listening on ${listen}`));
