import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Endpoint, UpstreamKind } from '../types.js';
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

/** True when the whole path (client → target → upstream) answers. */
export async function pathWorks(kind: UpstreamKind, endpoint: Endpoint): Promise<boolean> {
  if (kind === 'http') return httpOk(endpoint);
  const r = await bulkDownload({ endpoint, connections: 1, totalBytes: 1024 });
  return r.errors === 0 && r.bytes === 1024;
}
