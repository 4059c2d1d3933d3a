/**
 * Envoy v3 RouteConfiguration / VirtualHost / Route, as Istio fills them from VirtualServices.
 * First matching route wins. Durations are milliseconds; percentages are 0–100 (floats).
 */

/** Envoy's StringMatcher; exactly one of exact/prefix/suffix/contains/safeRegex is set. Regexes are RE2. */
export interface StringMatcher {
  exact?: string;
  prefix?: string;
  suffix?: string;
  contains?: string;
  safeRegex?: string;
  ignoreCase?: boolean;
}

/** Envoy's HeaderMatcher; Istio maps method/authority/scheme to `:method`/`:authority`/`:scheme`. */
export interface HeaderMatcher {
  name: string;
  stringMatch?: StringMatcher;
  presentMatch?: boolean;
  /** Istio's `withoutHeaders`. */
  invertMatch?: boolean;
}

export interface QueryParameterMatcher {
  name: string;
  stringMatch?: StringMatcher;
  presentMatch?: boolean;
}

/** Exactly one of prefix / path / safeRegex is set (Istio's catch-all is `prefix: "/"`). */
export interface RouteMatch {
  prefix?: string;
  path?: string;
  safeRegex?: string;
  caseSensitive: boolean;
  headers: HeaderMatcher[];
  queryParameters: QueryParameterMatcher[];
}

export interface HeaderValueOption {
  key: string;
  value: string;
  /** Istio `set` overwrites, `add` appends. */
  append: 'OVERWRITE_IF_EXISTS_OR_ADD' | 'APPEND_IF_EXISTS_OR_ADD';
}

export interface HeaderMutations {
  requestHeadersToAdd: HeaderValueOption[];
  requestHeadersToRemove: string[];
  responseHeadersToAdd: HeaderValueOption[];
  responseHeadersToRemove: string[];
}

export interface WeightedCluster extends HeaderMutations {
  name: string;
  weight: number;
}

export interface RetryPolicy {
  /** Envoy's retry_on list, comma-separated as in x-envoy-retry-on. */
  retryOn: string;
  numRetries: number;
  /** Absent: the route timeout bounds each try. */
  perTryTimeoutMs?: number;
  retriableStatusCodes: number[];
  retryHostPredicate: string[];
  hostSelectionRetryMaxAttempts: number;
  /** Istio's retryRemoteLocalities → envoy.retry_priorities.previous_priorities. */
  retryRemoteLocalities?: boolean;
}

/** Consistent-hash key, put on routes to the destination as Istio does (DestinationRule consistentHash). */
export type HashPolicy =
  | { header: { headerName: string } }
  | { cookie: { name: string; path?: string; ttlMs?: number } }
  | { connectionProperties: { sourceIp: true } }
  | { queryParameter: { name: string } };

export interface MirrorPolicy {
  cluster: string;
  /** 0–100; Istio's default is 100. */
  percent: number;
}

export interface RouteAction {
  /** Single destination (Istio uses this when a route has one destination). */
  cluster?: string;
  /** Several destinations; weights sum to totalWeight (100). */
  weightedClusters?: { clusters: WeightedCluster[]; totalWeight: number };
  /** 0: no timeout (Istio's default). */
  timeoutMs: number;
  /**
   * Envoy's max_grpc_timeout (Istio sets it to the route's timeout): when set, a gRPC request's
   * grpc-timeout is its timeout, capped by this unless it is 0.
   */
  maxGrpcTimeoutMs?: number;
  retryPolicy?: RetryPolicy;
  /** Istio's rewrite.uri. */
  prefixRewrite?: string;
  /** Istio's rewrite.uriRegexRewrite (RE2). */
  regexRewrite?: { pattern: string; substitution: string };
  /** Istio's rewrite.authority. */
  hostRewriteLiteral?: string;
  requestMirrorPolicies: MirrorPolicy[];
  hashPolicy: HashPolicy[];
}

export interface RedirectAction {
  schemeRedirect?: string;
  hostRedirect?: string;
  portRedirect?: number;
  /** Istio's derivePort. */
  derivePort?: 'FROM_PROTOCOL_DEFAULT' | 'FROM_REQUEST_PORT';
  pathRedirect?: string;
  /** 301 (Istio's default), 302, 303, 307, 308. */
  responseCode: number;
}

export interface DirectResponseAction {
  status: number;
  body?: string;
}

export interface FaultPolicy {
  delay?: { fixedDelayMs: number; percent: number };
  abort?: { httpStatus?: number; grpcStatus?: number; http2Error?: boolean; percent: number };
}

export interface CorsPolicy {
  allowOriginStringMatch: StringMatcher[];
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  maxAgeMs?: number;
  allowCredentials?: boolean;
  unmatchedPreflights?: 'FORWARD' | 'IGNORE';
}

export interface Route extends HeaderMutations {
  /** Istio: the HTTPRoute's name (`name.matchName` when the match is named too); `default` for Istio's default route. */
  name?: string;
  match: RouteMatch;
  /** Exactly one of route / redirect / directResponse. */
  route?: RouteAction;
  redirect?: RedirectAction;
  directResponse?: DirectResponseAction;
  fault?: FaultPolicy;
  cors?: CorsPolicy;
  /** Istio's decorator (tracing operation): `host:port/path*`. */
  operation?: string;
  /** `/apis/networking.istio.io/v1alpha3/namespaces/<ns>/virtual-service/<name>`, as in Istio's route metadata. */
  istioConfig?: string;
}

export interface VirtualHost {
  /** Istio: `<host>:<port>`; `allow_any` / `block_all` for the catch-all. */
  name: string;
  domains: string[];
  routes: Route[];
  /** Gateway servers with tls.httpsRedirect. */
  requireTls?: 'ALL';
  includeRequestAttemptCount: boolean;
}

export interface RouteConfiguration {
  /** Istio: the port for sidecars (`9080`), `http.<port>` for gateways. */
  name: string;
  virtualHosts: VirtualHost[];
  validateClusters: false;
}
