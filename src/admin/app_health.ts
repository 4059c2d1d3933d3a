import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { request as httpsRequest } from 'node:https';
import type { Handler } from './http.js';
import { logger } from '../log.js';

const log = logger('admin');

/** One original app probe, as `legate inject` (or Istio's injector) writes it into ISTIO_KUBE_APP_PROBERS. */
interface AppProber {
  tcpSocket?: { port?: number; host?: string };
  httpGet?: { path?: string; port?: number; scheme?: string; host?: string; httpHeaders?: { name: string; value: string }[] };
  timeoutSeconds?: number;
}

/**
 * Performs an app's original HTTP probe: 2xx and 3xx pass, as the kubelet (and pilot-agent)
 * judge it; anything else, a refused connection or a timeout fails. HTTPS skips certificate
 * checks as the kubelet does.
 */
export function probeApp(p: NonNullable<AppProber['httpGet']>, timeoutMs: number): Promise<boolean> {
  const https = String(p.scheme ?? 'HTTP').toUpperCase() === 'HTTPS';
  const headers: Record<string, string> = { 'user-agent': 'legate-app-prober' };
  for (const h of p.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
  return new Promise((resolve) => {
    const req = (https ? httpsRequest : httpRequest)(
      { host: p.host || '127.0.0.1', port: p.port, path: p.path || '/', method: 'GET', headers, timeout: timeoutMs, rejectUnauthorized: false, agent: false },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 400);
      },
    );
    req.on('timeout', () => req.destroy(new Error('probe timed out')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** A TCP probe: the app's port accepts a connection within the timeout (the proxy's uid is not captured). */
export function probeTcp(p: NonNullable<AppProber['tcpSocket']>, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: p.host || '127.0.0.1', port: p.port ?? 0, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/**
 * Routes `/app-health/<container>/livez|readyz|startupz` for every prober in the JSON of
 * ISTIO_KUBE_APP_PROBERS (absent or invalid: none, with one log line).
 */
export function appHealthRoutes(probersJson: string | undefined): Record<string, Handler> {
  if (!probersJson) return {};
  let probers: Record<string, AppProber>;
  try {
    probers = JSON.parse(probersJson) as Record<string, AppProber>;
    if (typeof probers !== 'object' || probers === null || Array.isArray(probers)) throw new Error('not an object');
  } catch (err) {
    log.error(`ISTIO_KUBE_APP_PROBERS ignored: ${(err as Error).message}`);
    return {};
  }
  const routes: Record<string, Handler> = {};
  for (const [path, prober] of Object.entries(probers)) {
    if (!path.startsWith('/app-health/') || !(prober?.httpGet || prober?.tcpSocket)) continue;
    const timeoutMs = (prober.timeoutSeconds ?? 1) * 1000;
    const check = prober.httpGet ? () => probeApp(prober.httpGet!, timeoutMs) : () => probeTcp(prober.tcpSocket!, timeoutMs);
    routes[path] = async (_req, res) => {
      res.writeHead((await check()) ? 200 : 503).end();
    };
  }
  return routes;
}
