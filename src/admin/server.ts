import type { ServerResponse } from 'node:http';
import type { StatsRegistry } from '../stats/store.js';
import type { Snapshot } from '../config/model.js';
import type { Rejection } from '../config/source.js';
import { renderPrometheus, type ServerGauges } from './prometheus.js';
import type { Histogram } from 'hdr-histogram-js';
import { configDump } from './config_dump.js';
import { clustersJson, clustersText, type ClustersView } from './clusters.js';
import { send, sendJson, type Handler, type Routes } from './http.js';
import { helpText, indexPage } from './index_page.js';
import { changeLogging } from './logging.js';
import { memoryBody, type HeapFigures } from './memory.js';
import { serverInfo, type ServerIdentity, type ServerState } from './server_info.js';
import { histogramLines, parseStatsQuery, selectStats, statsText } from './stats.js';

export { startHttp } from './http.js';

/** What the admin endpoints read from, and ask of, the running proxy. */
export interface AdminView {
  registry: StatsRegistry;
  /** Hosts and outlier verdicts for /clusters (absent: hosts as configured, all healthy). */
  clusters?: ClustersView;
  snapshot(): Snapshot | undefined;
  lastRejected(): Rejection | undefined;
  resourceInfo?(resource: object): { version: number | string; at: string } | undefined;
  configInfo?(): Record<string, unknown>;
  sectionVersion?(section: string): string | undefined;
  state(): ServerState;
  ready(): boolean;
  startedAt: Date;
  /** Envoy's `server.*` gauges (live, uptime, concurrency, …). */
  serverGauges?(): ServerGauges;
  /** The workers' latency histograms merged (slot → histogram), asked for when /stats is read. */
  histograms?(): Promise<ReadonlyMap<number, Histogram>>;
  healthcheckFailed: boolean;
  quit(): void;
  identity?: ServerIdentity;
  /** Envoy's /drain_listeners: graceful (HTTP told to close, listeners stop after the drain time) or at once. */
  drainListeners?(opts: { graceful: boolean; inboundOnly: boolean }): void;
  /** Heap figures of every thread (main first), for /memory. */
  heaps?(): Promise<HeapFigures[]>;
}

/** One line of help per path (Envoy's wording where Envoy has the path). */
const HELP: Record<string, string> = {
  '/': 'Admin home page',
  '/help': 'print out list of admin commands',
  '/ready': 'print server state, return 200 if LIVE, otherwise return 503',
  '/server_info': 'print server version/status information',
  '/stats': 'print server stats (?filter=regex, ?format=json, ?usedonly, ?type=Counters|Gauges)',
  '/stats/prometheus': 'print server stats in prometheus format',
  '/config_dump': 'dump current Envoy configs (?resource=, ?name_regex=, ?include_eds)',
  '/listeners': 'print listener info (?format=json)',
  '/clusters': 'upstream cluster status',
  '/memory': 'print current allocation/heap usage',
  '/healthcheck/fail': 'cause the server to fail health checks',
  '/healthcheck/ok': 'cause the server to pass health checks',
  '/drain_listeners': 'drain listeners (?graceful, ?inboundonly)',
  '/logging': 'query/change logging levels (?level=, ?paths=name:level,…, ?name=level)',
  '/reset_counters': 'reset all counters to zero',
  '/quitquitquit': 'exit the server',
};

/** Envoy's admin paths (the ones the proxy can answer so far). Mutating paths are POST-only, as in Envoy. */
export function adminRoutes(view: AdminView): Routes & { post: Record<string, Handler>; help: Record<string, string> } {
  const help = { ...HELP };
  const get: Record<string, Handler> = {
    '/ready': (_q, res) => send(res, view.ready() ? 200 : 503, view.state() + '\n'),
    '/server_info': (_q, res) => sendJson(res, serverInfo(view.identity, view.state(), view.startedAt)),
    '/stats': (_q, res, url) => {
      const q = parseStatsQuery(url.searchParams);
      if (typeof q === 'string') return send(res, 400, q + '\n');
      const stats = selectStats(view.registry, q, view.serverGauges?.());
      if (url.searchParams.get('format') === 'json') return sendJson(res, { stats });
      if (!view.histograms || q.type === 'Counters' || q.type === 'Gauges') return send(res, 200, statsText(stats));
      // Histogram quantiles live in the workers: asked for on read only.
      void view.histograms().then((h) => send(res, 200, statsText(stats, histogramLines(view.registry, q, h))));
    },
    '/stats/prometheus': (_q, res) => send(res, 200, renderPrometheus(view.registry, view.serverGauges?.()), 'text/plain; version=0.0.4; charset=utf-8'),
    '/config_dump': (_q, res, url) => {
      const { status, body } = configDump(view, url.searchParams);
      send(res, status, JSON.stringify(body, null, 2) + '\n', 'application/json');
    },
    '/listeners': (_q, res, url) => listeners(view, res, url),
    '/clusters': (_q, res, url) => {
      const clusters = view.snapshot()?.clusters ?? [];
      if (view.clusters) {
        if (url.searchParams.get('format') === 'json') return sendJson(res, clustersJson(clusters, view.clusters));
        return send(res, 200, clustersText(clusters, view.clusters));
      }
      const lines: string[] = [];
      for (const c of view.snapshot()?.clusters ?? []) {
        lines.push(`${c.name}::default_priority::max_connections::4294967295`);
        for (const e of c.endpoints) lines.push(`${c.name}::${e.address}:${e.port}::weight::${e.weight}`, `${c.name}::${e.address}:${e.port}::health_flags::healthy`);
      }
      send(res, 200, lines.join('\n') + '\n');
    },
    '/memory': async (_q, res) => sendJson(res, memoryBody(view.heaps ? await view.heaps() : [])),
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
    '/drain_listeners': (_q, res, url) => {
      if (!view.drainListeners) return send(res, 404, 'draining is not available\n');
      view.drainListeners({ graceful: url.searchParams.has('graceful'), inboundOnly: url.searchParams.has('inboundonly') });
      send(res, 200, 'OK\n');
    },
    '/reset_counters': (_q, res) => {
      view.registry.resetCounters();
      send(res, 200, 'OK\n');
    },
    '/logging': (_q, res, url) => {
      const { status, body } = changeLogging(url.searchParams);
      send(res, status, body);
    },
    '/quitquitquit': (_q, res) => {
      send(res, 200, 'OK\n');
      view.quit();
    },
  };
  const mutating = new Set(Object.keys(post));
  get['/'] = (_q, res) => send(res, 200, indexPage(help, mutating), 'text/html; charset=UTF-8');
  get['/help'] = (_q, res) => send(res, 200, `admin commands are:\n${helpText(help)}`);
  return { get, post, help };
}

/** Envoy's /listeners: `name::address:port` lines, or `listener_statuses` with `?format=json`. */
function listeners(view: AdminView, res: ServerResponse, url: URL): void {
  const ls = view.snapshot()?.listeners ?? [];
  if (url.searchParams.get('format') === 'json') {
    return sendJson(res, { listener_statuses: ls.map((l) => ({ name: l.name, local_address: { socket_address: { address: l.address.address, port_value: l.address.port } } })) });
  }
  send(res, 200, ls.map((l) => `${l.name}::${l.address.address}:${l.address.port}\n`).join(''));
}
