import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DnsRuntime } from './runtime.js';

/** GET /dns on the admin port: the name table, both caches and the DNS clusters, as JSON. */
export function dnsAdminHandler(dns: DnsRuntime): (req: IncomingMessage, res: ServerResponse, url: URL) => void {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, max-age=0', 'x-content-type-options': 'nosniff' });
    res.end(JSON.stringify(dns.view(), null, 2) + '\n');
  };
}
