import { HTTP_CONNECTION_MANAGER, type Authorization, type HttpConnectionManagerFilter } from '../../../config/model.js';
import type { ConnectionContext, WorkerState } from '../../../listener/connection.js';

/**
 * The policies for new requests on an open connection after a configuration change: those of
 * the same chain in the newest state, so that revoking access also holds on keep-alive
 * connections (Envoy would drain and close them; here each new request sees the change, as it
 * sees new routes). While the chain is gone (its listener drains), the connection keeps its own.
 */
export function newestAuthorization(w: WorkerState, ctx: ConnectionContext, own: HttpConnectionManagerFilter): Authorization | undefined {
  const f = w.listeners.select(ctx.listenerName, ctx.originalDst, 'http/1.1')?.chain.filters[0];
  if (f?.name !== HTTP_CONNECTION_MANAGER || f.statPrefix !== own.statPrefix) return own.authorization;
  return f.authorization;
}
