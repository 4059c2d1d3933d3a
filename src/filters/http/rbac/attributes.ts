import type { HeaderList } from '../../network/http_connection_manager/codec/headers.js';

/** What a verified JWT tells about the request (Istio's `request.auth.*`). */
export interface RequestIdentity {
  /** `<iss>/<sub>`. */
  principal: string;
  claims: Record<string, unknown>;
  audiences: string[];
  presenter?: string;
}

/**
 * The attributes AuthorizationPolicy reads, for one request or TCP connection. HTTP fields are
 * absent on TCP (the translator already removed the rules that would need them).
 */
export interface AuthzInput {
  /** The direct peer (`source.ip`, ipBlocks). */
  sourceIp: string;
  /** The original client (`remote.ip`, remoteIpBlocks): the peer too, as the sidecar trusts no X-Forwarded-For hops. */
  remoteIp: string;
  destinationIp: string;
  destinationPort: number;
  /** The peer's SPIFFE URI SAN (`spiffe://td/ns/x/sa/y`) from mTLS; absent on plaintext. */
  peerPrincipal?: string;
  sni?: string;
  host?: string;
  method?: string;
  /** Path without the query. */
  path?: string;
  headers?: HeaderList;
  identity?: RequestIdentity;
}

/** Istio's principal form: the URI SAN without `spiffe://`. */
export function principalOf(input: AuthzInput): string | undefined {
  const p = input.peerPrincipal;
  if (!p) return undefined;
  return p.startsWith('spiffe://') ? p.slice(9) : p;
}

/** The namespace in a `…/ns/<ns>/sa/<sa>` principal, as Istio derives `source.namespace`. */
export function namespaceOf(input: AuthzInput): string | undefined {
  const p = input.peerPrincipal;
  if (!p) return undefined;
  const i = p.indexOf('/ns/');
  if (i < 0) return undefined;
  const end = p.indexOf('/', i + 4);
  return p.slice(i + 4, end < 0 ? p.length : end);
}
