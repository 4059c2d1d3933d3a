import { join } from 'node:path';
import { onCpus } from '../cpus.js';
import { server } from '../paths.js';
import { start } from '../proc.js';
import type { Target } from '../types.js';
import { PEER_PORT, redirectedEndpoint } from './endpoint.js';

/** Node peers from npm (bench/servers/node_proxy.ts); node:cluster when more than one worker. */
function nodePeer(kind: 'http-proxy' | 'fastify' | 'net-pipe', id: string, label: string): Target {
  return {
    id,
    label,
    layer: kind === 'net-pipe' ? 'l4' : 'l7',
    serves: kind === 'net-pipe' ? ['http', 'tcp-source'] : ['http'],
    unavailable: () => undefined,
    async start(a) {
      const argv = [process.execPath, server('node_proxy'), kind, String(PEER_PORT), String(a.upstream.port), String(a.workers)];
      const logFile = join(a.tmp, `${id}.log`);
      const proc = start(onCpus(a.cpus.proxy, argv), { logFile });
      const { endpoint, remove } = redirectedEndpoint(a.upstreamKind, PEER_PORT);
      return { endpoint, pid: proc.pid, exited: proc.exited, logFile, stop: async () => (remove(), await proc.stop()) };
    },
  };
}

export const httpProxy = nodePeer('http-proxy', 'http-proxy', 'node http-proxy (keep-alive agent)');
export const fastifyProxy = nodePeer('fastify', 'fastify-http-proxy', 'node @fastify/http-proxy');
/** Not a proxy: the cost of Node's sockets alone, to tell Legate's overhead from Node's. */
export const nodeNetPipe = nodePeer('net-pipe', 'node-net-pipe', 'node net + pipe() (bare forwarding, reference)');
