import { createServer, type Server } from 'node:http';
import type { AdsServer } from './ads_server.js';
import type { ConfigStore } from './config_store.js';
import { statusJson } from './proxy_status.js';

/**
 * The server's debug side port, after istiod's (8080): `GET /debug/syncz` lists every connected
 * proxy with, per type, what was sent (version, nonce), what it ACKed and its last NACK.
 */
export function startStatusServer(ads: AdsServer, store: ConfigStore, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/debug/syncz' && req.url !== '/debug/syncz/')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /debug/syncz\n');
      return;
    }
    const body = JSON.stringify({ config_version: store.version, proxies: statusJson(ads.streams) }, null, 2);
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
