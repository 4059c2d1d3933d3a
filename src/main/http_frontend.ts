import { logger } from '../log.js';
import { loadUws } from '../filters/network/http_connection_manager/uws/load.js';
import type { HttpFrontend, ProxyOptions } from './options.js';
import type { ProxyRole } from '../config/model.js';

const log = logger('frontend');

export interface HttpFrontendChoice {
  frontend: HttpFrontend;
  /** The uWS addon to load in every worker (frontend `uws`). */
  uwsModule?: string;
}

/**
 * Which engine serves a router's plain HTTP listeners. `uws` is honoured only when the addon
 * loads here (right platform, architecture and Node ABI); otherwise one line says why and the
 * node engine serves, as it does for every sidecar listener.
 */
export function chooseHttpFrontend(opts: Pick<ProxyOptions, 'httpFrontend' | 'uwsModule'>, role: ProxyRole): HttpFrontendChoice {
  if (opts.httpFrontend !== 'uws') return { frontend: 'node' };
  if (role !== 'router') {
    log.warn('--http-frontend uws applies to `legate proxy router` only: the sidecar serves with the node engine');
    return { frontend: 'node' };
  }
  const loaded = loadUws(opts.uwsModule);
  if ('reason' in loaded) {
    log.warn(`--http-frontend uws: ${loaded.reason}; plain HTTP listeners are served by the node engine`);
    return { frontend: 'node' };
  }
  log.info(`plain HTTP gateway listeners are served by the uws front end (${loaded.path}); TLS and TCP listeners by the node engine`);
  return { frontend: 'uws', uwsModule: loaded.path };
}
