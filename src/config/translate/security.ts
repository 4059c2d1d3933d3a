import { HTTP_CONNECTION_MANAGER, TCP_PROXY, VIRTUAL_INBOUND, type Authorization, type FilterChain, type Listener, type ProxyRole } from '../model.js';
import { rbacForTcp } from '../../filters/network/rbac/tcp_rules.js';

/** Istio's loop-guard chains close connections anyway: no policy on them. */
const isLoopGuard = (c: FilterChain) => c.name.endsWith('-blackhole');

function secureChain(chain: FilterChain, auth: Authorization, tcpRbac: Authorization['rbac']): FilterChain {
  if (isLoopGuard(chain)) return chain;
  return {
    ...chain,
    filters: chain.filters.map((f) => {
      if (f.name === HTTP_CONNECTION_MANAGER) return { ...f, authorization: auth };
      if (f.name === TCP_PROXY && tcpRbac) return { ...f, rbac: tcpRbac };
      return f;
    }),
  };
}

/**
 * Puts the proxy's AuthorizationPolicy / RequestAuthentication filters on the chains Istio
 * puts them on: every inbound chain of a sidecar (HTTP: jwt_authn + RBAC on the connection
 * manager; TCP: network RBAC with the HTTP-only parts handled as Istio does) and every chain
 * of a gateway. Outbound sidecar traffic is never authorized. New objects: the inputs may be
 * shared with the snapshot in force.
 */
export function secureListeners(listeners: Listener[], auth: Authorization, role: ProxyRole): Listener[] {
  if (!auth.rbac && !auth.jwtProviders) return listeners;
  const tcpRbac = auth.rbac && rbacForTcp(auth.rbac);
  return listeners.map((l) => {
    if (role === 'sidecar' && l.name !== VIRTUAL_INBOUND) return l;
    return {
      ...l,
      filterChains: l.filterChains.map((c) => secureChain(c, auth, tcpRbac)),
      ...(l.defaultFilterChain ? { defaultFilterChain: secureChain(l.defaultFilterChain, auth, tcpRbac) } : {}),
    };
  });
}
