import { isIP } from 'node:net';
import type { Cluster, UpstreamTls } from '../../config/model.js';
import type { PoolTls } from '../../tls/upstream.js';

/**
 * Envoy's auto_sni / auto_san_validation (istiod sets them for SIMPLE / MUTUAL origination
 * without a DestinationRule `sni`): the request's Host picks the upstream TLS name, so a cluster
 * that serves several names keeps one pool per (host, name) — two names never share a TLS
 * connection, as Envoy hashes the server name into its connection-pool key.
 */

/** Whether requests to this cluster need their Host to choose a pool (checked per request: keep it one property read for plain clusters). */
export const usesServerName = (c: Cluster): boolean => c.autoSni === true || c.autoSanValidation === true;

/** Envoy's parseAuthority: the host without its port; a bracketed or bare IPv6 address without brackets. */
export function authorityHost(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end < 0 ? authority : authority.slice(1, end);
  }
  const colon = authority.indexOf(':');
  // More than one colon and no brackets: an IPv6 address with no port.
  if (colon < 0 || authority.indexOf(':', colon + 1) >= 0) return authority;
  return authority.slice(0, colon);
}

/**
 * The TLS one pool uses for `name` (a Host without port): auto SNI sends it unless it is an IP
 * (then the rule's SNI, if any, as Envoy does), and auto SAN validation checks the server
 * certificate against it in place of the rule's SAN list. Built once per pool, not per request.
 */
export function serverNameTls(cluster: Cluster, tls: UpstreamTls, name: string): PoolTls {
  const out: PoolTls = { ...tls };
  if (cluster.autoSni && isIP(name) === 0) out.sni = name;
  if (cluster.autoSanValidation && !tls.insecureSkipVerify) out.verifyServerName = name;
  return out;
}
