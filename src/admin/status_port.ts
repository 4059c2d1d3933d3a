import { request } from 'node:http';
import type { Handler, Routes } from './http.js';
import { send } from './http.js';
import { appHealthRoutes } from './app_health.js';
import { logger } from '../log.js';

const log = logger('admin');

/** The app's own scrape settings, as Istio's injector moves them from the pod's prometheus.io annotations. */
interface AppScrape {
  path: string;
  port: number;
}

/** What the status port serves, from the proxy. */
export interface StatusPortView {
  ready(): boolean;
  /** The proxy's Prometheus text (Istio's standard metrics and Envoy's stats). */
  prometheus(): string;
  quit(): void;
}

const PROMETHEUS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const APP_SCRAPE_TIMEOUT_MS = 5000;

/**
 * pilot-agent's status port (15020), which injected pods point at: `/healthz/ready`, the
 * rewritten app probes `/app-health/<container>/…` (ISTIO_KUBE_APP_PROBERS), `/stats/prometheus`
 * with Istio's metrics merging — the proxy's metrics followed by the app's own, scraped from the
 * port and path the injector recorded in ISTIO_PROMETHEUS_ANNOTATIONS — and POST `/quitquitquit`.
 */
export function statusPortRoutes(view: StatusPortView, env: NodeJS.ProcessEnv): Routes {
  const app = appScrape(env.ISTIO_PROMETHEUS_ANNOTATIONS);
  const merged: Handler = async (_req, res) => {
    const own = view.prometheus();
    const appText = app ? await scrape(app) : '';
    send(res, 200, appText ? `${own}${own.endsWith('\n') ? '' : '\n'}${appText}` : own, PROMETHEUS_TYPE);
  };
  return {
    get: {
      '/healthz/ready': (_q, res) => void res.writeHead(view.ready() ? 200 : 503).end(),
      '/stats/prometheus': merged,
      ...appHealthRoutes(env.ISTIO_KUBE_APP_PROBERS),
    },
    post: {
      '/quitquitquit': (_q, res) => {
        send(res, 200, 'OK\n');
        view.quit();
      },
    },
  };
}

/** ISTIO_PROMETHEUS_ANNOTATIONS: `{"scrape":"true","path":"/metrics","port":"8080"}`; undefined when absent, off or invalid (logged once). */
export function appScrape(json: string | undefined): AppScrape | undefined {
  if (!json) return undefined;
  try {
    const a = JSON.parse(json) as { scrape?: string; path?: string; port?: string | number };
    if (String(a.scrape ?? 'true') === 'false') return undefined;
    const port = Number(a.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`port ${JSON.stringify(a.port)}`);
    return { path: a.path || '/metrics', port };
  } catch (err) {
    log.error(`ISTIO_PROMETHEUS_ANNOTATIONS ignored: ${(err as Error).message}`);
    return undefined;
  }
}

/** The app's metrics text; an app that fails to answer contributes nothing (the proxy's metrics still go out), as pilot-agent does. */
function scrape(app: AppScrape): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: app.port, path: app.path, timeout: APP_SCRAPE_TIMEOUT_MS, agent: false }, (res) => {
      if ((res.statusCode ?? 0) !== 200) {
        res.resume();
        return resolve('');
      }
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(text));
      res.on('error', () => resolve(''));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => {
      log.debug(`app metrics scrape of :${app.port}${app.path} failed: ${err.message}`);
      resolve('');
    });
    req.end();
  });
}
