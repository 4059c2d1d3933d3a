/**
 * Istio's AuthorizationPolicy and RequestAuthentication as istiod hands them to Envoy: one
 * RBAC filter per action (`envoy.filters.http.rbac` / `envoy.filters.network.rbac`) whose
 * policies are named `ns[<ns>]-policy[<name>]-rule[<index>]`, and a `jwt_authn` filter with
 * one provider per jwtRule. The rules keep Istio's shape (plain data; compiled in workers).
 */

/** Values a field must match (any of them) and values it must not match (none of them). Istio's `*` forms: exact, `pre*`, `*suf`, `*` (present). */
export interface ValueMatch {
  values?: string[];
  notValues?: string[];
}

export interface RbacSource {
  principals?: ValueMatch;
  requestPrincipals?: ValueMatch;
  namespaces?: ValueMatch;
  /** CIDRs (a bare IP is a /32 or /128). */
  ipBlocks?: ValueMatch;
  remoteIpBlocks?: ValueMatch;
}

export interface RbacOperation {
  hosts?: ValueMatch;
  ports?: ValueMatch;
  methods?: ValueMatch;
  paths?: ValueMatch;
}

/** A `when` condition: `key` is one of Istio's attribute names (`request.headers[x-foo]`, `source.ip`, …). */
export interface RbacCondition extends ValueMatch {
  key: string;
}

/** One rule of one policy: any `from`, any `to` (empty: anything) and every `when`. */
export interface RbacPolicy {
  name: string;
  from: RbacSource[];
  to: RbacOperation[];
  when: RbacCondition[];
  /** Envoy's own permission / principal trees (istiod over xDS); then from/to/when are empty and unused. */
  envoy?: { permissions: unknown[]; principals: unknown[] };
}

/**
 * One RBAC filter. ALLOW with no policies allows nothing (Istio's allow-nothing); DENY with
 * none denies nothing; LOG (Istio's AUDIT) never denies.
 */
export interface RbacRules {
  action: 'ALLOW' | 'DENY' | 'LOG';
  policies: RbacPolicy[];
}

/** One RequestAuthentication jwtRule, as Envoy's JwtProvider. */
export interface JwtProvider {
  /** `origins-<n>` style name, for /config_dump and errors. */
  name: string;
  issuer: string;
  audiences: string[];
  /** Inline JWKS (JSON text). */
  jwks?: string;
  /** JWKS fetched by the worker (loopback or reachable URL), refreshed in the background. */
  jwksUri?: string;
  /** Where the token is read: headers (with a value prefix such as `Bearer `) and query parameters. */
  fromHeaders: { name: string; prefix: string }[];
  fromParams: string[];
  forwardOriginalToken: boolean;
  outputPayloadToHeader?: string;
  outputClaimToHeaders: { header: string; claim: string }[];
}

/** What a listener's filters enforce (absent: nothing). */
export interface Authorization {
  /** In evaluation order: DENY (including CUSTOM policies, see docs/authorization.md), ALLOW, LOG. */
  rbac?: RbacRules[];
  jwtProviders?: JwtProvider[];
}
