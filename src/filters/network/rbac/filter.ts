import type { Socket } from 'node:net';
import type { Authorization, RbacRules } from '../../../config/model.js';
import type { ConnectionContext } from '../../../listener/connection.js';
import { compiledRbac } from '../../http/rbac/engine.js';
import { rbacForTcp } from './tcp_rules.js';

/**
 * Envoy's network RBAC filter in front of tcp_proxy: evaluated once, when the connection
 * arrives; a denied connection is closed before any byte goes upstream. Counted under Istio's
 * `tcp.rbac.*` (one stat prefix for every chain).
 */
export function tcpRbacAllows(socket: Socket, rules: readonly RbacRules[], ctx: ConnectionContext): boolean {
  const peer = socket.remoteAddress ?? '';
  const v = compiledRbac(rules).evaluate({
    sourceIp: peer,
    remoteIp: peer,
    destinationIp: ctx.originalDst.address,
    destinationPort: ctx.originalDst.port,
    peerPrincipal: ctx.tls?.peerPrincipal,
    sni: ctx.tls?.sni,
  });
  const { stats, statIndex } = ctx.worker;
  const allowedFilters = v.allowed ? v.evaluated : v.evaluated - 1;
  if (allowedFilters > 0) stats.add(statIndex.server.tcpRbacAllowed, allowedFilters);
  if (v.allowed) return true;
  stats.inc(statIndex.server.tcpRbacDenied);
  socket.destroy();
  return false;
}
