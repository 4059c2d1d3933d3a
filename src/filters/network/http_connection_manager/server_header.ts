import type { HttpConnectionManagerFilter } from '../../../config/model.js';
import { hasHeader, setHeader, type HeaderList } from './codec/index.js';

/**
 * Envoy's `server` response header: `server_name` (istiod's `istio-envoy`) replaces the
 * upstream's (OVERWRITE, the default), is added only when the upstream sent none
 * (APPEND_IF_ABSENT), or the upstream's goes through untouched (PASS_THROUGH). Envoy sets it as
 * the response leaves, after the route's header mutations, so a VirtualService cannot remove it.
 */
export function applyServerHeader(h: HeaderList, filter: HttpConnectionManagerFilter): void {
  switch (filter.serverHeaderTransformation) {
    case 'OVERWRITE':
      setHeader(h, 'server', filter.serverName);
      break;
    case 'APPEND_IF_ABSENT':
      if (!hasHeader(h, 'server')) h.push('server', filter.serverName);
      break;
    case 'PASS_THROUGH':
      break;
  }
}

/** The `server` value of a response the proxy makes itself (there is no upstream's to keep); undefined: none. */
export function localReplyServer(filter: HttpConnectionManagerFilter): string | undefined {
  return filter.serverHeaderTransformation === 'PASS_THROUGH' ? undefined : filter.serverName;
}
