import type {
  CorsPolicy, FaultPolicy, HashPolicy, HeaderMatcher, HeaderMutations, HeaderValueOption, RedirectAction, RetryPolicy, Route, RouteAction, RouteConfiguration,
  RouteMatch, StringMatcher, VirtualHost,
} from '../../config/model.js';
import { duration, fractionalPercent, istioMetadata, put, type Json } from './values.js';

const REDIRECT_CODES: Record<number, string> = { 301: 'MOVED_PERMANENTLY', 302: 'FOUND', 303: 'SEE_OTHER', 307: 'TEMPORARY_REDIRECT', 308: 'PERMANENT_REDIRECT' };

/**
 * The model's RouteConfiguration → Envoy's, the inverse of convert/route.ts. Not carried: a
 * redirect's derivePort and a fault's HTTP/2 error flag (Envoy has no field for them), CORS
 * unmatched-preflight handling.
 */
export function encodeRouteConfiguration(rc: RouteConfiguration, withType = true): Json {
  const out: Json = { name: rc.name, virtual_hosts: rc.virtualHosts.map(virtualHost), validate_clusters: rc.validateClusters };
  return withType ? { '@type': 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration', ...out } : out;
}

function virtualHost(vh: VirtualHost): Json {
  const out: Json = { name: vh.name, domains: vh.domains, routes: vh.routes.map(route), include_request_attempt_count: vh.includeRequestAttemptCount };
  put(out, 'require_tls', vh.requireTls);
  return out;
}

function route(r: Route): Json {
  const out: Json = { match: match(r.match), ...mutations(r) };
  put(out, 'name', r.name);
  if (r.route) out.route = action(r.route);
  else if (r.redirect) out.redirect = redirect(r.redirect);
  else if (r.directResponse) {
    out.direct_response = { status: r.directResponse.status };
    if (r.directResponse.body !== undefined) out.direct_response.body = { inline_string: r.directResponse.body };
  }
  if (r.operation) out.decorator = { operation: r.operation };
  Object.assign(out, istioMetadata(r.istioConfig ? { config: r.istioConfig } : {}));
  const perFilter: Json = {};
  if (r.fault) perFilter['envoy.filters.http.fault'] = fault(r.fault);
  if (r.cors) perFilter['envoy.filters.http.cors'] = cors(r.cors);
  if (Object.keys(perFilter).length > 0) out.typed_per_filter_config = perFilter;
  return out;
}

function stringMatcher(m: StringMatcher): Json {
  const out: Json = {};
  if (m.exact !== undefined) out.exact = m.exact;
  else if (m.prefix !== undefined) out.prefix = m.prefix;
  else if (m.suffix !== undefined) out.suffix = m.suffix;
  else if (m.contains !== undefined) out.contains = m.contains;
  else if (m.safeRegex !== undefined) out.safe_regex = { regex: m.safeRegex };
  if (m.ignoreCase) out.ignore_case = true;
  return out;
}

function match(m: RouteMatch): Json {
  const out: Json = { case_sensitive: m.caseSensitive };
  if (m.prefix !== undefined) out.prefix = m.prefix;
  else if (m.path !== undefined) out.path = m.path;
  else if (m.safeRegex !== undefined) out.safe_regex = { regex: m.safeRegex };
  if (m.headers.length > 0) out.headers = m.headers.map(headerMatcher);
  if (m.queryParameters.length > 0)
    out.query_parameters = m.queryParameters.map((q) => (q.stringMatch ? { name: q.name, string_match: stringMatcher(q.stringMatch) } : { name: q.name, present_match: q.presentMatch ?? true }));
  return out;
}

/**
 * Header matchers use the older per-kind fields (`exact_match`, `prefix_match`, …) unless the
 * match ignores case: Envoy reads both, and xDS clients older than `string_match` (gRPC C-core
 * 1.51, Debian's python3-grpcio) NACK a whole route configuration that uses it.
 */
function headerMatcher(h: HeaderMatcher): Json {
  const out: Json = { name: h.name };
  const m = h.stringMatch;
  if (m && !m.ignoreCase && m.exact !== undefined) out.exact_match = m.exact;
  else if (m && !m.ignoreCase && m.prefix !== undefined) out.prefix_match = m.prefix;
  else if (m && !m.ignoreCase && m.suffix !== undefined) out.suffix_match = m.suffix;
  else if (m && !m.ignoreCase && m.contains !== undefined) out.contains_match = m.contains;
  else if (m && m.safeRegex !== undefined && !m.ignoreCase) out.safe_regex_match = { regex: m.safeRegex };
  else if (m) out.string_match = stringMatcher(m);
  else out.present_match = h.presentMatch ?? true;
  if (h.invertMatch) out.invert_match = true;
  return out;
}

const headerOptions = (list: HeaderValueOption[]) => list.map((o) => ({ header: { key: o.key, value: o.value }, append_action: o.append }));

function mutations(m: HeaderMutations): Json {
  const out: Json = {};
  if (m.requestHeadersToAdd.length > 0) out.request_headers_to_add = headerOptions(m.requestHeadersToAdd);
  if (m.requestHeadersToRemove.length > 0) out.request_headers_to_remove = m.requestHeadersToRemove;
  if (m.responseHeadersToAdd.length > 0) out.response_headers_to_add = headerOptions(m.responseHeadersToAdd);
  if (m.responseHeadersToRemove.length > 0) out.response_headers_to_remove = m.responseHeadersToRemove;
  return out;
}

function action(a: RouteAction): Json {
  const out: Json = { timeout: duration(a.timeoutMs) };
  if (a.maxGrpcTimeoutMs !== undefined) out.max_grpc_timeout = duration(a.maxGrpcTimeoutMs);
  if (a.cluster !== undefined) out.cluster = a.cluster;
  else if (a.weightedClusters)
    out.weighted_clusters = { clusters: a.weightedClusters.clusters.map((w) => ({ name: w.name, weight: w.weight, ...mutations(w) })), total_weight: a.weightedClusters.totalWeight };
  if (a.retryPolicy) out.retry_policy = retry(a.retryPolicy);
  put(out, 'prefix_rewrite', a.prefixRewrite);
  if (a.regexRewrite) out.regex_rewrite = { pattern: { regex: a.regexRewrite.pattern }, substitution: a.regexRewrite.substitution };
  put(out, 'host_rewrite_literal', a.hostRewriteLiteral);
  if (a.requestMirrorPolicies.length > 0)
    out.request_mirror_policies = a.requestMirrorPolicies.map((m) => ({ cluster: m.cluster, runtime_fraction: { default_value: fractionalPercent(m.percent) } }));
  if (a.hashPolicy.length > 0) out.hash_policy = a.hashPolicy.map(hashPolicy);
  return out;
}

function retry(p: RetryPolicy): Json {
  const out: Json = {
    retry_on: p.retryOn,
    num_retries: p.numRetries,
    retriable_status_codes: p.retriableStatusCodes,
    retry_host_predicate: p.retryHostPredicate.map((name) => ({ name })),
    host_selection_retry_max_attempts: p.hostSelectionRetryMaxAttempts,
  };
  if (p.perTryTimeoutMs !== undefined) out.per_try_timeout = duration(p.perTryTimeoutMs);
  if (p.retryRemoteLocalities) out.retry_priority = { name: 'envoy.retry_priorities.previous_priorities' };
  return out;
}

function hashPolicy(h: HashPolicy): Json {
  if ('header' in h) return { header: { header_name: h.header.headerName } };
  if ('cookie' in h) {
    const c: Json = { name: h.cookie.name };
    put(c, 'path', h.cookie.path);
    if (h.cookie.ttlMs !== undefined) c.ttl = duration(h.cookie.ttlMs);
    return { cookie: c };
  }
  if ('connectionProperties' in h) return { connection_properties: { source_ip: true } };
  return { query_parameter: { name: h.queryParameter.name } };
}

function redirect(r: RedirectAction): Json {
  const out: Json = { response_code: REDIRECT_CODES[r.responseCode] ?? 'MOVED_PERMANENTLY' };
  put(out, 'scheme_redirect', r.schemeRedirect);
  put(out, 'host_redirect', r.hostRedirect);
  put(out, 'port_redirect', r.portRedirect);
  put(out, 'path_redirect', r.pathRedirect);
  return out;
}

function fault(f: FaultPolicy): Json {
  const out: Json = { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault' };
  if (f.delay) out.delay = { fixed_delay: duration(f.delay.fixedDelayMs), percentage: fractionalPercent(f.delay.percent) };
  if (f.abort) {
    out.abort = { percentage: fractionalPercent(f.abort.percent) };
    put(out.abort, 'http_status', f.abort.httpStatus);
    put(out.abort, 'grpc_status', f.abort.grpcStatus);
  }
  return out;
}

function cors(c: CorsPolicy): Json {
  const out: Json = { '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy', allow_origin_string_match: c.allowOriginStringMatch.map(stringMatcher) };
  if (c.allowMethods.length > 0) out.allow_methods = c.allowMethods.join(',');
  if (c.allowHeaders.length > 0) out.allow_headers = c.allowHeaders.join(',');
  if (c.exposeHeaders.length > 0) out.expose_headers = c.exposeHeaders.join(',');
  if (c.maxAgeMs !== undefined) out.max_age = String(Math.round(c.maxAgeMs / 1000));
  put(out, 'allow_credentials', c.allowCredentials);
  return out;
}
