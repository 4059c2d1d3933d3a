import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { StatsRegistry } from '../stats/store.js';
import type { Snapshot } from '../config/model.js';
import type { Rejection } from '../config/source.js';
import { renderPrometheus, renderStatsText } from './prometheus.js';
import { configDump } from './config_dump.js';
import { logLevel, setLogLevel } from '../log.js';

/** What the admin endpoints read from the running proxy. */
export interface AdminView {
  registry: StatsRegistry;
  snapshot(): Snapshot | undefined;
  lastRejected(): Rejection | undefined;
  resourceInfo?(resource: object): { version: number | string; at: string } | undefined;
  configInfo?(): Record<string, unknown>;
  sectionVersion?(section: string): string | undefined;
  state(): 'LIVE' | 'DRAINING' | 'PRE_INITIALIZING' | 'INITIALIZING';
  ready(): boolean;
  startedAt: Date;
  healthcheckFailed: boolean;
  quit(): void;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=UTF-8'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache, max-age=0', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

const json = (res: ServerResponse, body: unknown) => send(res, 200, JSON.stringify(body, null, 2) + '\n', 'application/json');

/** Envoy's admin paths (the ones the proxy can answer so far). Mutating paths are POST-only, as in Envoy. */
export function adminRoutes(view: AdminView): { get: Record<string, Handler>; post: Record<string, Handler> } {
  const get: Record<string, Handler> = {
    '/ready': (_q, res) => send(res, view.ready() ? 200 : 503, view.state() + '\n'),
    '/server_info': (_q, res) =>
      json(res, {
        version: 'legate/0.1.0',
        state: view.state(),
        uptime_current_epoch: `${Math.floor((Date.now() - view.startedAt.getTime()) / 1000)}s`,
        node: { user_agent_name: 'legate' },
      }),
    '/stats': (_q, res, url) => {
      const f = url.searchParams.get('filter');
      let re: RegExp | undefined;
      try {
        re = f ? new RegExp(f) : undefined;
      } catch {
        return send(res, 400, `Invalid re2 regex\n`);
      }
      if (url.searchParams.get('format') === 'json') {
        return json(res, { stats: view.registry.entries().filter((e) => !re || re.test(e.info.name)).map((e) => ({ name: e.info.name, value: e.value })) });
      }
      send(res, 200, renderStatsText(view.registry, re));
    },
    '/stats/prometheus': (_q, res) => send(res, 200, renderPrometheus(view.registry), 'text/plain; version=0.0.4; charset=utf-8'),
    '/config_dump': (_q, res, url) => {
      const { status, body } = configDump(view, url.searchParams);
      send(res, status, JSON.stringify(body, null, 2) + '\n', 'application/json');
    },
    '/listeners': (_q, res, url) => {
      const ls = view.snapshot()?.listeners ?? [];
      if (url.searchParams.get('format') === 'json') return json(res, { listener_statuses: ls.map((l) => ({ name: l.name, local_address: { socket_address: l.address } })) });
      send(res, 200, ls.map((l) => `${l.name}::${l.address.address}:${l.address.port}`).join('\n') + '\n');
    },
    '/clusters': (_q, res) => {
      const lines: string[] = [];
      for (const c of view.snapshot()?.clusters ?? []) {
        lines.push(`${c.name}::default_priority::max_connections::4294967295`);
        for (const e of c.endpoints) lines.push(`${c.name}::${e.address}:${e.port}::weight::${e.weight}`, `${c.name}::${e.address}:${e.port}::health_flags::healthy`);
      }
      send(res, 200, lines.join('\n') + '\n');
    },
  };
  const post: Record<string, Handler> = {
    '/healthcheck/fail': (_q, res) => {
      view.healthcheckFailed = true;
      send(res, 200, 'OK\n');
    },
    '/healthcheck/ok': (_q, res) => {
      view.healthcheckFailed = false;
      send(res, 200, 'OK\n');
    },
    '/reset_counters': (_q, res) => {
      view.registry.resetCounters();
      send(res, 200, 'OK\n');
    },
    '/logging': (_q, res, url) => {
      const level = url.searchParams.get('level');
      if (level && !setLogLevel(level)) return send(res, 404, `unknown level ${level}\n`);
      send(res, 200, `active loggers:\n  legate: ${logLevel()}\n`);
    },
    '/quitquitquit': (_q, res) => {
      send(res, 200, 'OK\n');
      view.quit();
    },
  };
  return { get, post };
}

export function startHttp(routes: { get: Record<string, Handler>; post?: Record<string, Handler> }, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const post = routes.post?.[url.pathname];
    const get = routes.get[url.pathname];
    if (post) {
      // Envoy refuses state changes over GET so that a stray browser visit changes nothing.
      if (req.method !== 'POST') return send(res, 405, 'This endpoint requires POST\n');
      return post(req, res, url);
    }
    if (get && (req.method === 'GET' || req.method === 'HEAD')) return get(req, res, url);
    send(res, 404, 'invalid path\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
