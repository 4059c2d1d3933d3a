import type { HttpConnectionManagerFilter } from '../../../config/model.js';
import type { DownstreamTlsInfo } from '../../../listener/connection.js';
import { IpRanges } from '../../../listener/ip_ranges.js';
import { formatClientCertElement } from '../../../tls/client_certificate.js';
import { getHeader, lastColon, removeHeader, setHeader, type HeaderList } from './codec/index.js';

/** Envoy's internal-only headers, dropped from requests that come from outside (header sanitizing). */
const INTERNAL_ONLY = [
  'x-envoy-decorator-operation',
  'x-envoy-downstream-service-cluster',
  'x-envoy-downstream-service-node',
  'x-envoy-expected-rq-timeout-ms',
  'x-envoy-external-address',
  'x-envoy-force-trace',
  'x-envoy-internal',
  'x-envoy-ip-tags',
  'x-envoy-max-retries',
  'x-envoy-retry-grpc-on',
  'x-envoy-retry-on',
  'x-envoy-upstream-alt-stat-name',
  'x-envoy-upstream-rq-per-try-timeout-ms',
  'x-envoy-upstream-rq-timeout-alt-response',
  'x-envoy-upstream-rq-timeout-ms',
];

const XFCC = 'x-forwarded-client-cert';

/** `ip` of an `ip:port` string (IPv6 addresses may come bracketed or bare). */
export function addressIp(address: string): string {
  const colon = lastColon(address);
  const ip = colon < 0 ? address : address.slice(0, colon);
  return ip.startsWith('[') ? ip.slice(1, -1) : ip;
}

/** Envoy's Utility::isInternalAddress: 10/8, 172.16/12, 192.168/16 and 127.0.0.1; fd00::/8 and ::1. */
const INTERNAL = new IpRanges(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.1', 'fd00::/8', '::1']);

/** Anything that is not an address is external. */
export function isInternalAddress(ip: string): boolean {
  return INTERNAL.has(ip);
}

/**
 * Envoy's request header mutations for forwarding (ConnectionManagerUtility): on an edge HCM
 * (use_remote_address, Istio's gateways) the peer is appended to x-forwarded-for and a request
 * from outside gets x-envoy-external-address, a fresh x-request-id and loses the internal
 * x-envoy-* headers; x-forwarded-proto comes from the connection unless a trusted proxy set it;
 * x-forwarded-client-cert follows forward_client_cert_details. Returns whether the request
 * came from outside (its x-request-id must then be replaced).
 */
export function mutateForwardedHeaders(h: HeaderList, filter: HttpConnectionManagerFilter, remoteAddress: string, tls: DownstreamTlsInfo | undefined): boolean {
  const hops = filter.xffNumTrustedHops ?? 0;
  let external = false;
  if (filter.useRemoteAddress) {
    const peer = addressIp(remoteAddress);
    const xff = getHeader(h, 'x-forwarded-for');
    const client = hops > 0 && xff ? (trustedFromRight(xff, hops) ?? peer) : peer;
    // Envoy: internal only when nothing came before the peer and the peer is a private address.
    external = xff !== undefined || !isInternalAddress(client);
    setHeader(h, 'x-forwarded-for', xff ? `${xff},${peer}` : peer);
    if (external) {
      for (const name of INTERNAL_ONLY) removeHeader(h, name);
      h.push('x-envoy-external-address', client);
    } else setHeader(h, 'x-envoy-internal', 'true');
  }
  if (hops === 0 || getHeader(h, 'x-forwarded-proto') === undefined) setHeader(h, 'x-forwarded-proto', tls ? 'https' : 'http');
  forwardClientCert(h, filter, tls);
  return external;
}

/** The `n`th address from the right of an x-forwarded-for value, when it has that many. */
function trustedFromRight(xff: string, n: number): string | undefined {
  const parts = xff.split(',');
  return parts.length >= n ? parts[parts.length - n]!.trim() : undefined;
}

/** forward_client_cert_details: what reaches the upstream of the client's x-forwarded-client-cert. */
function forwardClientCert(h: HeaderList, filter: HttpConnectionManagerFilter, tls: DownstreamTlsInfo | undefined): void {
  const mode = filter.forwardClientCertDetails ?? 'SANITIZE';
  if (mode === 'ALWAYS_FORWARD_ONLY') return;
  const cert = tls?.clientCertificate;
  if (mode === 'SANITIZE' || !cert) {
    removeHeader(h, XFCC);
    return;
  }
  if (mode === 'FORWARD_ONLY') return;
  const element = formatClientCertElement(cert, filter.setCurrentClientCertDetails);
  const prior = mode === 'APPEND_FORWARD' ? getHeader(h, XFCC) : undefined;
  setHeader(h, XFCC, prior ? `${prior},${element}` : element);
}
