import { connect } from 'node:net';
import { connect as h2connect } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import type { Endpoint, UpstreamKind } from '../types.js';
import { GRPC_MESSAGE, GRPC_PATH } from '../../servers/bodies.js';
import { bulkDownload } from './bulk.js';
import { ResponseReader, request } from './response_reader.js';

/** One HTTP GET through the path; true on a 2xx response. */
function httpOk(endpoint: Endpoint): Promise<boolean> {
  return new Promise((resolve) => {
    const s = endpoint.tls ? tlsConnect({ host: endpoint.host, port: endpoint.port, rejectUnauthorized: false }) : connect({ host: endpoint.host, port: endpoint.port });
    const reader = new ResponseReader();
    const done = (ok: boolean) => (s.destroy(), resolve(ok));
    s.setTimeout(1000, () => done(false));
    s.once(endpoint.tls ? 'secureConnect' : 'connect', () => s.write(request('GET', '/small', endpoint.host)));
    s.on('data', (b: Buffer) => reader.push(b) > 0 && done(reader.statusErrors === 0));
    s.once('error', () => done(false));
    s.once('close', () => done(false));
  });
}

/** One prior-knowledge h2c GET through the path (targets that take only h2c); true on a 2xx response. */
function h2Ok(endpoint: Endpoint, grpc = false): Promise<boolean> {
  return new Promise((resolve) => {
    const session = h2connect(`http://${endpoint.host}:${endpoint.port}`);
    const done = (ok: boolean) => (session.destroy(), resolve(ok));
    const timer = setTimeout(() => done(false), 1000);
    session.once('error', () => (clearTimeout(timer), done(false)));
    const req = grpc
      ? session.request({ ':method': 'POST', ':path': GRPC_PATH, 'content-type': 'application/grpc', te: 'trailers' })
      : session.request({ ':path': '/small' });
    if (grpc) req.end(GRPC_MESSAGE);
    req.once('response', (h) => (clearTimeout(timer), done(Number(h[':status']) >= 200 && Number(h[':status']) < 300)));
    req.once('error', () => (clearTimeout(timer), done(false)));
  });
}

/** True when the whole path (client → target → upstream) answers, over HTTP/1.1 or else h2c. */
export async function pathWorks(kind: UpstreamKind, endpoint: Endpoint): Promise<boolean> {
  if (kind === 'http') return (await httpOk(endpoint)) || h2Ok(endpoint);
  if (kind === 'grpc') return h2Ok(endpoint, true);
  const r = await bulkDownload({ endpoint, connections: 1, totalBytes: 1024 });
  return r.errors === 0 && r.bytes === 1024;
}
