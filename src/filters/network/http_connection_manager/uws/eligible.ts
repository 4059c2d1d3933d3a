import { HTTP_CONNECTION_MANAGER, type Listener } from '../../../../config/model.js';

/**
 * Whether the uWS front end can serve a listener: a bound listener with a single plaintext
 * HTTP connection manager chain and nothing to inspect or match per connection (a gateway's
 * HTTP server). TLS, SNI, protocol detection and TCP stay on the node engine.
 */
export function uwsCanServe(l: Listener): boolean {
  if (!l.bindToPort || l.useOriginalDst || (l.listenerFilters?.length ?? 0) > 0 || l.defaultFilterChain) return false;
  if (l.filterChains.length !== 1) return false;
  const chain = l.filterChains[0];
  const m = chain.match;
  if (chain.tls || m.transportProtocol === 'tls' || m.serverNames?.length || m.applicationProtocols?.length || m.prefixRanges?.length || m.destinationPort !== undefined) return false;
  return chain.filters.length === 1 && chain.filters[0].name === HTTP_CONNECTION_MANAGER;
}
