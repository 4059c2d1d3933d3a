import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { helpText } from './index_page.js';

/** One admin path's handler; it may answer asynchronously (e.g. /memory asks the workers). */
export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

/** Paths by method: `get` answers GET and HEAD, `post` only POST (Envoy's "mutates server state"). */
export interface Routes {
  get: Record<string, Handler>;
  post?: Record<string, Handler>;
  /** One line of help per path, for `/` and the 404 page. */
  help?: Record<string, string>;
}

export function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=UTF-8'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache, max-age=0', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

export const sendJson = (res: ServerResponse, body: unknown, status = 200) => send(res, status, JSON.stringify(body, null, 2) + '\n', 'application/json');

/** Dispatches a request as Envoy's admin does: 405 for a GET to a mutating path, 404 with the path list otherwise. */
export function dispatch(routes: Routes, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://admin');
  const post = routes.post?.[url.pathname];
  const get = routes.get[url.pathname];
  let handler: Handler | undefined;
  if (post) {
    // Envoy refuses state changes over GET so that a stray browser visit or crawler changes nothing.
    if (req.method !== 'POST') return send(res, 405, `Method ${req.method} not allowed, POST required.\n`);
    handler = post;
  } else if (get && (req.method === 'GET' || req.method === 'HEAD')) handler = get;
  if (!handler) return send(res, 404, `invalid path. admin commands are:\n${routes.help ? helpText(routes.help) : ''}`);
  Promise.resolve()
    .then(() => handler(req, res, url))
    .catch((err: Error) => {
      if (!res.headersSent) send(res, 500, `${err.message}\n`);
      else res.destroy();
    });
}

export function startHttp(routes: Routes, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => dispatch(routes, req, res));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
