import { Buffer } from 'node:buffer';
import type {
  CorsPolicy, FaultPolicy, HashPolicy, HeaderMatcher, HeaderMutations, HeaderValueOption, QueryParameterMatcher, RedirectAction, RetryPolicy, Route,
  RouteAction, RouteConfiguration, RouteMatch, StringMatcher, VirtualHost,
} from '../../config/model.js';
import type { ConversionReport } from './report.js';
import { bool, durationMs, fractionPercent, istioMetadata, num, typeName, type Json } from './values.js';

const REDIRECT_CODES: Record<string, number> = { MOVED_PERMANENTLY: 301, FOUND: 302, SEE_OTHER: 303, TEMPORARY_REDIRECT: 307, PERMANENT_REDIRECT: 308 };

/** Envoy v3 RouteConfiguration (RDS, or an HCM's inline route_config) → the model's. */
export function convertRouteConfiguration(rc: Json, report: ConversionReport, name: string = rc.name): RouteConfiguration {
  const where = `RouteConfiguration ${name}`;
  if (!name) report.fail('RouteConfiguration', 'no name');
  if (rc.vhds) report.fail(where, 'VHDS is not supported');
  return { name, validateClusters: false, virtualHosts: (rc.virtual_hosts ?? []).map((vh: Json) => virtualHost(vh, report, where)) };
}

function virtualHost(vh: Json, report: ConversionReport, where: string): VirtualHost {
  const at = `${where} virtual host ${vh.name}`;
  if (vh.request_headers_to_add?.length || vh.response_headers_to_add?.length || vh.request_headers_to_remove?.length || vh.response_headers_to_remove?.length)
    report.note('route.vhost_headers', `${at}: virtual-host header mutations are not implemented`);
  const out: VirtualHost = {
    name: vh.name,
    domains: vh.domains ?? [],
    routes: (vh.routes ?? []).map((r: Json, i: number) => route(r, report, `${at} route ${r.name ?? i}`)),
    includeRequestAttemptCount: bool(vh.include_request_attempt_count) ?? false,
  };
  if (vh.require_tls === 'ALL' || vh.require_tls === 'EXTERNAL_ONLY') out.requireTls = 'ALL';
  return out;
}

function route(r: Json, report: ConversionReport, at: string): Route {
  const out: Route = { match: match(r.match ?? {}, report, at), ...mutations(r, report, at) };
  if (r.name) out.name = r.name;
  if (r.route) out.route = action(r.route, report, at);
  else if (r.redirect) out.redirect = redirect(r.redirect, report, at);
  else if (r.direct_response) {
    const body = r.direct_response.body;
    out.directResponse = { status: num(r.direct_response.status) ?? 200 };
    const text = body?.inline_string ?? (body?.inline_bytes !== undefined ? Buffer.from(body.inline_bytes, 'base64').toString() : undefined);
    if (text !== undefined) out.directResponse.body = text;
    if (body?.filename) report.fail(at, 'direct_response body from a file is not supported');
  } else report.fail(at, 'route has no route, redirect or direct_response action');
  if (r.decorator?.operation) out.operation = r.decorator.operation;
  const istio = istioMetadata(r);
  if (typeof istio.config === 'string') out.istioConfig = istio.config;
  perFilter(r.typed_per_filter_config, out, report, at);
  return out;
}

function stringMatcher(m: Json, report: ConversionReport, at: string): StringMatcher {
  const out: StringMatcher = {};
  if (m.exact !== undefined) out.exact = m.exact;
  else if (m.prefix !== undefined) out.prefix = m.prefix;
  else if (m.suffix !== undefined) out.suffix = m.suffix;
  else if (m.contains !== undefined) out.contains = m.contains;
  else if (m.safe_regex) out.safeRegex = m.safe_regex.regex;
  else report.fail(at, `unsupported string matcher ${JSON.stringify(Object.keys(m))}`);
  if (bool(m.ignore_case)) out.ignoreCase = true;
  return out;
}

function match(m: Json, report: ConversionReport, at: string): RouteMatch {
  const out: RouteMatch = { caseSensitive: bool(m.case_sensitive) ?? true, headers: [], queryParameters: [] };
  if (m.prefix !== undefined) out.prefix = m.prefix;
  else if (m.path !== undefined) out.path = m.path;
  else if (m.safe_regex) out.safeRegex = m.safe_regex.regex;
  else if (m.path_separated_prefix !== undefined) out.prefix = m.path_separated_prefix;
  else report.fail(at, `unsupported path match ${JSON.stringify(Object.keys(m))}`);
  // Ignoring any of these would make the route match more requests than it should.
  for (const k of ['grpc', 'tls_context', 'dynamic_metadata', 'runtime_fraction', 'filter_state', 'path_match_policy', 'connect_matcher'])
    if (m[k] !== undefined && !(Array.isArray(m[k]) && m[k].length === 0)) report.fail(at, `route match on ${k} is not supported`);
  for (const h of m.headers ?? []) out.headers.push(headerMatcher(h, report, at));
  for (const q of m.query_parameters ?? []) {
    const qm: QueryParameterMatcher = { name: q.name };
    if (q.string_match) qm.stringMatch = stringMatcher(q.string_match, report, at);
    else if (q.present_match !== undefined) qm.presentMatch = bool(q.present_match);
    else qm.presentMatch = true;
    out.queryParameters.push(qm);
  }
  return out;
}

function headerMatcher(h: Json, report: ConversionReport, at: string): HeaderMatcher {
  const out: HeaderMatcher = { name: h.name };
  if (h.string_match) out.stringMatch = stringMatcher(h.string_match, report, at);
  else if (h.exact_match !== undefined) out.stringMatch = { exact: h.exact_match };
  else if (h.prefix_match !== undefined) out.stringMatch = { prefix: h.prefix_match };
  else if (h.suffix_match !== undefined) out.stringMatch = { suffix: h.suffix_match };
  else if (h.contains_match !== undefined) out.stringMatch = { contains: h.contains_match };
  else if (h.safe_regex_match) out.stringMatch = { safeRegex: h.safe_regex_match.regex };
  else if (h.range_match) report.fail(at, `header ${h.name}: range_match is not supported`);
  else out.presentMatch = bool(h.present_match) ?? true;
  if (bool(h.invert_match)) out.invertMatch = true;
  return out;
}

function headerOptions(list: Json[] | undefined): HeaderValueOption[] {
  return (list ?? []).map((o) => {
    // Envoy: append_action wins; the deprecated `append: false` means overwrite; the default appends.
    const overwrite = o.append_action ? o.append_action === 'OVERWRITE_IF_EXISTS_OR_ADD' : bool(o.append) === false;
    return { key: o.header.key, value: o.header.value ?? '', append: overwrite ? 'OVERWRITE_IF_EXISTS_OR_ADD' : 'APPEND_IF_EXISTS_OR_ADD' };
  });
}

function mutations(r: Json, report: ConversionReport, at: string): HeaderMutations {
  for (const o of [...(r.request_headers_to_add ?? []), ...(r.response_headers_to_add ?? [])])
    if (o.append_action === 'ADD_IF_ABSENT' || o.append_action === 'OVERWRITE_IF_EXISTS') report.note('route.append_action', `${at}: header append_action ${o.append_action} treated as overwrite`);
  return {
    requestHeadersToAdd: headerOptions(r.request_headers_to_add),
    requestHeadersToRemove: r.request_headers_to_remove ?? [],
    responseHeadersToAdd: headerOptions(r.response_headers_to_add),
    responseHeadersToRemove: r.response_headers_to_remove ?? [],
  };
}

function action(a: Json, report: ConversionReport, at: string): RouteAction {
  const out: RouteAction = {
    timeoutMs: durationMs(a.timeout) ?? 15_000,
    requestMirrorPolicies: (a.request_mirror_policies ?? []).map((m: Json) => ({ cluster: m.cluster, percent: fractionPercent(m.runtime_fraction?.default_value) })),
    hashPolicy: (a.hash_policy ?? []).map((h: Json) => hashPolicy(h, report, at)),
  };
  if (a.max_grpc_timeout !== undefined) out.maxGrpcTimeoutMs = durationMs(a.max_grpc_timeout);
  if (a.cluster) out.cluster = a.cluster;
  else if (a.weighted_clusters) {
    const clusters = (a.weighted_clusters.clusters ?? []).map((w: Json) => ({ name: w.name, weight: num(w.weight) ?? 0, ...mutations(w, report, at) }));
    out.weightedClusters = { clusters, totalWeight: num(a.weighted_clusters.total_weight) ?? clusters.reduce((s: number, w: { weight: number }) => s + w.weight, 0) };
  } else report.fail(at, `route action without cluster or weighted_clusters (${Object.keys(a).join(', ')}) is not supported`);
  if (a.retry_policy) out.retryPolicy = retry(a.retry_policy);
  if (a.prefix_rewrite !== undefined) out.prefixRewrite = a.prefix_rewrite;
  if (a.regex_rewrite) out.regexRewrite = { pattern: a.regex_rewrite.pattern.regex, substitution: a.regex_rewrite.substitution ?? '' };
  if (a.host_rewrite_literal) out.hostRewriteLiteral = a.host_rewrite_literal;
  return out;
}

function retry(p: Json): RetryPolicy {
  const out: RetryPolicy = {
    retryOn: p.retry_on ?? '',
    numRetries: num(p.num_retries) ?? 1,
    retriableStatusCodes: (p.retriable_status_codes ?? []).map(Number),
    retryHostPredicate: (p.retry_host_predicate ?? []).map((x: Json) => x.name),
    hostSelectionRetryMaxAttempts: num(p.host_selection_retry_max_attempts) ?? 1,
  };
  const perTry = durationMs(p.per_try_timeout);
  if (perTry !== undefined) out.perTryTimeoutMs = perTry;
  if (p.retry_priority?.name === 'envoy.retry_priorities.previous_priorities') out.retryRemoteLocalities = true;
  return out;
}

function hashPolicy(h: Json, report: ConversionReport, at: string): HashPolicy {
  if (h.header) return { header: { headerName: h.header.header_name } };
  if (h.cookie) {
    const c: { name: string; path?: string; ttlMs?: number } = { name: h.cookie.name };
    if (h.cookie.path) c.path = h.cookie.path;
    const ttl = durationMs(h.cookie.ttl);
    if (ttl !== undefined) c.ttlMs = ttl;
    return { cookie: c };
  }
  if (h.connection_properties) return { connectionProperties: { sourceIp: true } };
  if (h.query_parameter) return { queryParameter: { name: h.query_parameter.name } };
  return report.fail(at, `hash policy ${JSON.stringify(Object.keys(h))} is not supported`);
}

function redirect(r: Json, report: ConversionReport, at: string): RedirectAction {
  const out: RedirectAction = { responseCode: REDIRECT_CODES[r.response_code ?? 'MOVED_PERMANENTLY'] ?? 301 };
  if (r.https_redirect) out.schemeRedirect = 'https';
  else if (r.scheme_redirect) out.schemeRedirect = r.scheme_redirect;
  if (r.host_redirect) out.hostRedirect = r.host_redirect;
  const port = num(r.port_redirect);
  if (port) out.portRedirect = port;
  if (r.path_redirect) out.pathRedirect = r.path_redirect;
  if (r.prefix_rewrite !== undefined || r.regex_rewrite) report.fail(at, 'redirect with prefix_rewrite / regex_rewrite is not supported');
  return out;
}

/** Per-route fault and CORS settings (Istio puts them in typed_per_filter_config). */
function perFilter(cfg: Json, out: Route, report: ConversionReport, at: string): void {
  for (const [filter, any] of Object.entries((cfg ?? {}) as Record<string, Json>)) {
    const type = typeName(any);
    if (type === 'envoy.extensions.filters.http.fault.v3.HTTPFault') out.fault = fault(any);
    else if (type === 'envoy.extensions.filters.http.cors.v3.CorsPolicy') out.cors = cors(any, report, at);
    else report.note(`route.per_filter.${filter}`, `${at}: per-route config for ${filter} (${type}) ignored`);
  }
}

function fault(f: Json): FaultPolicy {
  const out: FaultPolicy = {};
  if (f.delay) out.delay = { fixedDelayMs: durationMs(f.delay.fixed_delay) ?? 0, percent: fractionPercent(f.delay.percentage) };
  if (f.abort) {
    out.abort = { percent: fractionPercent(f.abort.percentage) };
    if (f.abort.http_status !== undefined) out.abort.httpStatus = num(f.abort.http_status);
    if (f.abort.grpc_status !== undefined) out.abort.grpcStatus = num(f.abort.grpc_status);
  }
  return out;
}

function cors(c: Json, report: ConversionReport, at: string): CorsPolicy {
  const list = (s: string | undefined) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : []);
  const out: CorsPolicy = {
    allowOriginStringMatch: (c.allow_origin_string_match ?? []).map((m: Json) => stringMatcher(m, report, at)),
    allowMethods: list(c.allow_methods),
    allowHeaders: list(c.allow_headers),
    exposeHeaders: list(c.expose_headers),
  };
  if (c.max_age) out.maxAgeMs = Number(c.max_age) * 1000;
  const cred = bool(c.allow_credentials);
  if (cred !== undefined) out.allowCredentials = cred;
  return out;
}
