import type { HttpConnectionManagerFilter } from '../../../config/model.js';
import { hasHeader, setHeader, type HeaderList } from './codec/index.js';
import { httpDate } from './date.js';

/**
 * What Envoy's connection manager sets on every response as it leaves, after the route's header
 * mutations (so a VirtualService cannot remove them): `date` when the upstream sent none, and
 * `server`. The `server` header is `server_name` (istiod's `istio-envoy` inbound and on
 * gateways, Envoy's `envoy` on sidecar outbound), replacing the upstream's (OVERWRITE, the
 * default), added only when the upstream sent none (APPEND_IF_ABSENT), or left as the upstream
 * sent it (PASS_THROUGH). Local replies go through here too, with no upstream's to keep.
 */
export function applyBaseResponseHeaders(h: HeaderList, filter: HttpConnectionManagerFilter): void {
  if (!hasHeader(h, 'date')) h.push('date', httpDate());
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
