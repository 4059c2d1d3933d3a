import { Buffer } from 'node:buffer';
import type {
  CorsPolicy,
  FaultPolicy,
  HashPolicy,
  HeaderMatcher,
  HeaderMutations,
  HeaderValueOption,
  MirrorPolicy,
  RetryPolicy,
  Route,
  RouteAction,
  RouteMatch,
  StringMatcher,
} from '../model.js';
import { GRPC_CODES } from '../validate/http_route.js';
import { isPlainObject, parseIstioDuration } from '../validate/values.js';
import { labelsMatch } from './hosts.js';
import type { VirtualServiceDef } from './types.js';
import { resolveGateway } from './virtual_service.js';

/** Istio's default retry policy on every HTTP route (when the VirtualService says nothing). */
export const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';
const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  retryOn: DEFAULT_RETRY_ON,
  numRetries: 2,
  retriableStatusCodes: Object.freeze([503]) as number[],
  retryHostPredicate: Object.freeze(['envoy.retry_host_predicates.previous_hosts']) as string[],
  hostSelectionRetryMaxAttempts: 5,
});
/**
 * One shared, frozen object: thousands of routes carry it, and a structured clone (the
 * snapshot on its way to workers) keeps it one object.
 */
export function defaultRetryPolicy(): RetryPolicy {
  return DEFAULT_RETRY;
}

/** Where a route is being built: the listener port, the gateway (`mesh` for sidecars) and the proxy. */
export interface RouteContext {
  port: number;
  gateway: string;
  proxyNamespace: string;
  proxyLabels?: Record<string, string>;
  /** The cluster a VirtualService destination goes to, and the host:port it names (for the decorator). */
  destination(d: any, vsNamespace: string): { cluster: string; host: string; port: number };
  hashPolicyFor(cluster: string): HashPolicy | undefined;
}

const ms = (v: unknown): number | undefined => {
  if (v === undefined) return undefined;
  const d = parseIstioDuration(v);
  return 'ms' in d ? d.ms : undefined;
};

export const istioConfigPath = (kind: 'virtual-service' | 'destination-rule', ns: string, name: string) => `/apis/networking.istio.io/v1alpha3/namespaces/${ns}/${kind}/${name}`;

/** Does an HTTPMatchRequest apply to this proxy, listener and gateway? (Istio drops the ones that don't.) */
export function matchApplies(m: any, ctx: { port: number; gateway: string; proxyNamespace: string; proxyLabels?: Record<string, string> }, vsNamespace: string): boolean {
  if (!isPlainObject(m)) return true;
  if (m.port !== undefined && m.port !== ctx.port) return false;
  if (Array.isArray(m.gateways) && m.gateways.length > 0) {
    if (!m.gateways.some((g: string) => resolveGateway(g, vsNamespace) === ctx.gateway)) return false;
  }
  if (isPlainObject(m.sourceLabels) && !labelsMatch(m.sourceLabels, ctx.proxyLabels ?? {})) return false;
  if (m.sourceNamespace !== undefined && m.sourceNamespace !== ctx.proxyNamespace) return false;
  return true;
}

/** The Envoy routes of one VirtualService for a listener port: one per applicable match, in order. */
export function virtualServiceRoutes(vs: VirtualServiceDef, ctx: RouteContext): Route[] {
  const out: Route[] = [];
  const ns = vs.resource.namespace;
  for (const h of vs.http) {
    if (!isPlainObject(h) || h.delegate !== undefined) continue;
    const matches: any[] = Array.isArray(h.match) && h.match.length > 0 ? h.match : [undefined];
    for (const m of matches) if (matchApplies(m, ctx, ns)) out.push(buildRoute(h, m, vs, ctx));
  }
  return out;
}

function stringMatcher(sm: any, ignoreCase = false): StringMatcher | undefined {
  if (!isPlainObject(sm)) return undefined;
  const base = ignoreCase ? { ignoreCase: true } : {};
  if (sm.exact !== undefined) return { exact: String(sm.exact), ...base };
  if (sm.prefix !== undefined) return { prefix: String(sm.prefix), ...base };
  if (sm.regex !== undefined) return { safeRegex: String(sm.regex) };
  return undefined;
}

function headerMatcher(name: string, sm: any, invert = false): HeaderMatcher {
  const stringMatch = stringMatcher(sm);
  const hm: HeaderMatcher = stringMatch ? { name: name.toLowerCase(), stringMatch } : { name: name.toLowerCase(), presentMatch: true };
  if (invert) hm.invertMatch = true;
  return hm;
}

export function routeMatch(m: any): RouteMatch {
  const rm: RouteMatch = { caseSensitive: !(isPlainObject(m) && m.ignoreUriCase === true), headers: [], queryParameters: [] };
  const uri = isPlainObject(m) ? m.uri : undefined;
  if (uri?.exact !== undefined) rm.path = String(uri.exact);
  else if (uri?.prefix !== undefined) rm.prefix = String(uri.prefix);
  else if (uri?.regex !== undefined) rm.safeRegex = String(uri.regex);
  else rm.prefix = '/';
  if (!isPlainObject(m)) return rm;
  for (const [name, sm] of Object.entries(isPlainObject(m.headers) ? m.headers : {})) rm.headers.push(headerMatcher(name, sm));
  for (const [field, pseudo] of [['method', ':method'], ['authority', ':authority'], ['scheme', ':scheme']] as const) {
    if (isPlainObject(m[field])) rm.headers.push(headerMatcher(pseudo, m[field]));
  }
  for (const [name, sm] of Object.entries(isPlainObject(m.withoutHeaders) ? m.withoutHeaders : {})) rm.headers.push(headerMatcher(name, sm, true));
  for (const [name, sm] of Object.entries(isPlainObject(m.queryParams) ? m.queryParams : {})) {
    const stringMatch = stringMatcher(sm);
    rm.queryParameters.push(stringMatch ? { name, stringMatch } : { name, presentMatch: true });
  }
  return rm;
}

export function emptyMutations(): HeaderMutations {
  return { requestHeadersToAdd: [], requestHeadersToRemove: [], responseHeadersToAdd: [], responseHeadersToRemove: [] };
}

/** Istio `headers`: set → overwrite, add → append, remove. `:authority`/`host` sets become a host rewrite. */
export function headerMutations(h: any, into: HeaderMutations = emptyMutations()): { mutations: HeaderMutations; authority?: string } {
  let authority: string | undefined;
  if (!isPlainObject(h)) return { mutations: into };
  const opts = (ops: any, toAdd: HeaderValueOption[], toRemove: string[], request: boolean) => {
    if (!isPlainObject(ops)) return;
    for (const [op, append] of [['set', 'OVERWRITE_IF_EXISTS_OR_ADD'], ['add', 'APPEND_IF_EXISTS_OR_ADD']] as const) {
      for (const [key, value] of Object.entries(isPlainObject(ops[op]) ? ops[op] : {})) {
        if (request && /^(:authority|host)$/i.test(key)) authority = String(value);
        else toAdd.push({ key: key.toLowerCase(), value: String(value), append });
      }
    }
    for (const key of Array.isArray(ops.remove) ? ops.remove : []) toRemove.push(String(key).toLowerCase());
  };
  opts(h.request, into.requestHeadersToAdd, into.requestHeadersToRemove, true);
  opts(h.response, into.responseHeadersToAdd, into.responseHeadersToRemove, false);
  return { mutations: into, authority };
}

/** Istio's retry.ConvertPolicy. Numeric retryOn entries become retriable status codes. */
export function retryPolicy(rt: any): RetryPolicy | undefined {
  if (!isPlainObject(rt)) return DEFAULT_RETRY;
  const out: RetryPolicy = { ...DEFAULT_RETRY };
  if (!Number.isInteger(rt.attempts) || rt.attempts <= 0) return undefined;
  out.numRetries = rt.attempts;
  if (typeof rt.retryOn === 'string' && rt.retryOn.trim() !== '') {
    const on: string[] = [];
    const codes: number[] = [];
    for (const p of rt.retryOn.split(',').map((s: string) => s.trim()).filter(Boolean)) {
      if (/^\d+$/.test(p)) codes.push(Number(p));
      else on.push(p);
    }
    if (codes.length > 0 && !on.includes('retriable-status-codes')) on.push('retriable-status-codes');
    out.retryOn = on.join(',');
    out.retriableStatusCodes = codes;
  }
  const perTry = ms(rt.perTryTimeout);
  if (perTry !== undefined) out.perTryTimeoutMs = perTry;
  if (rt.retryRemoteLocalities === true) out.retryRemoteLocalities = true;
  return out;
}

function fault(f: any): FaultPolicy | undefined {
  if (!isPlainObject(f)) return undefined;
  const out: FaultPolicy = {};
  const pct = (x: any) => (typeof x?.percentage?.value === 'number' ? x.percentage.value : Number.isInteger(x?.percent) ? x.percent : 100);
  if (isPlainObject(f.delay) && f.delay.fixedDelay !== undefined) out.delay = { fixedDelayMs: ms(f.delay.fixedDelay) ?? 0, percent: pct(f.delay) };
  if (isPlainObject(f.abort)) {
    const a = f.abort;
    out.abort = { percent: pct(a) };
    if (a.httpStatus !== undefined) out.abort.httpStatus = a.httpStatus;
    else if (a.grpcStatus !== undefined) out.abort.grpcStatus = GRPC_CODES[String(a.grpcStatus)];
    else if (a.http2Error !== undefined) out.abort.http2Error = true;
  }
  return out;
}

function cors(c: any): CorsPolicy | undefined {
  if (!isPlainObject(c)) return undefined;
  const origins: StringMatcher[] = [];
  for (const o of Array.isArray(c.allowOrigins) ? c.allowOrigins : []) {
    const sm = stringMatcher(o);
    if (sm) origins.push(sm);
  }
  for (const o of Array.isArray(c.allowOrigin) ? c.allowOrigin : []) origins.push(o === '*' ? { prefix: '*' } : { exact: String(o) });
  const out: CorsPolicy = {
    allowOriginStringMatch: origins,
    allowMethods: (c.allowMethods ?? []).map(String),
    allowHeaders: (c.allowHeaders ?? []).map(String),
    exposeHeaders: (c.exposeHeaders ?? []).map(String),
  };
  if (c.maxAge !== undefined) out.maxAgeMs = ms(c.maxAge);
  if (typeof c.allowCredentials === 'boolean') out.allowCredentials = c.allowCredentials;
  if (c.unmatchedPreflights === 'FORWARD' || c.unmatchedPreflights === 'IGNORE') out.unmatchedPreflights = c.unmatchedPreflights;
  return out;
}

function mirrors(h: any, vsNs: string, ctx: RouteContext): MirrorPolicy[] {
  const out: MirrorPolicy[] = [];
  if (isPlainObject(h.mirror)) {
    const percent = typeof h.mirrorPercentage?.value === 'number' ? h.mirrorPercentage.value : Number.isInteger(h.mirrorPercent ?? h.mirror_percent) ? (h.mirrorPercent ?? h.mirror_percent) : 100;
    out.push({ cluster: ctx.destination(h.mirror, vsNs).cluster, percent });
  }
  for (const m of Array.isArray(h.mirrors) ? h.mirrors : []) {
    out.push({ cluster: ctx.destination(m.destination, vsNs).cluster, percent: typeof m.percentage?.value === 'number' ? m.percentage.value : 100 });
  }
  return out;
}

function buildRoute(h: any, m: any, vs: VirtualServiceDef, ctx: RouteContext): Route {
  const ns = vs.resource.namespace;
  const { mutations, authority } = headerMutations(h.headers);
  const route: Route = { match: routeMatch(m), ...mutations, istioConfig: istioConfigPath('virtual-service', ns, vs.resource.name) };
  const name = [h.name, m?.name].filter((x) => typeof x === 'string' && x !== '').join('.');
  if (name) route.name = name;
  const path = m?.uri?.exact ?? (m?.uri?.prefix !== undefined ? `${m.uri.prefix}*` : '/*');
  if (isPlainObject(h.redirect)) {
    const rd = h.redirect;
    route.redirect = { responseCode: rd.redirectCode ?? 301 };
    if (rd.uri) route.redirect.pathRedirect = rd.uri;
    if (rd.authority) route.redirect.hostRedirect = rd.authority;
    if (rd.port !== undefined) route.redirect.portRedirect = rd.port;
    if (rd.derivePort) route.redirect.derivePort = rd.derivePort;
    if (rd.scheme) route.redirect.schemeRedirect = rd.scheme;
  } else if (isPlainObject(h.directResponse)) {
    const body = h.directResponse.body;
    route.directResponse = { status: h.directResponse.status };
    if (typeof body?.string === 'string') route.directResponse.body = body.string;
    else if (typeof body?.bytes === 'string') route.directResponse.body = Buffer.from(body.bytes, 'base64').toString('utf8');
  } else {
    // Validation has reported a route without destinations; translation only must not throw.
    const all: any[] = Array.isArray(h.route) ? h.route : [];
    const dests = all.filter((d) => !(all.length > 1 && (d.weight ?? 0) === 0));
    const resolved = dests.map((d) => ({ d, ...ctx.destination(d.destination, ns) }));
    const action = {} as RouteAction;
    if (resolved.length === 1) {
      action.cluster = resolved[0].cluster;
      headerMutations(resolved[0].d.headers, route);
    } else {
      action.weightedClusters = {
        clusters: resolved.map(({ d, cluster }) => ({ name: cluster, weight: d.weight ?? 0, ...headerMutations(d.headers).mutations })),
        totalWeight: 100,
      };
    }
    action.timeoutMs = ms(h.timeout) ?? 0;
    action.maxGrpcTimeoutMs = action.timeoutMs;
    const rp = retryPolicy(h.retries);
    if (rp) action.retryPolicy = rp;
    const rw = h.rewrite;
    if (isPlainObject(rw)) {
      if (rw.uri !== undefined) action.prefixRewrite = rw.uri;
      if (isPlainObject(rw.uriRegexRewrite)) action.regexRewrite = { pattern: rw.uriRegexRewrite.match, substitution: rw.uriRegexRewrite.rewrite ?? '' };
      if (rw.authority) action.hostRewriteLiteral = rw.authority;
    }
    if (authority !== undefined) action.hostRewriteLiteral = authority;
    action.requestMirrorPolicies = mirrors(h, ns, ctx);
    action.hashPolicy = [];
    const hashes = resolved.map((x) => ctx.hashPolicyFor(x.cluster));
    if (hashes[0] && hashes.every((x) => JSON.stringify(x) === JSON.stringify(hashes[0]))) action.hashPolicy = [hashes[0]];
    route.route = action;
    route.operation = `${resolved[0].host}:${resolved[0].port}${path}`;
  }
  const f = fault(h.fault);
  if (f) route.fault = f;
  const c = cors(h.corsPolicy);
  if (c) route.cors = c;
  if (!route.operation) route.operation = `${vs.hosts[0]}:${ctx.port}${path}`;
  return ordered(route);
}

/** Fields in Envoy's order (readable /config_dump and golden files). */
function ordered(r: Route): Route {
  const out: Route = { ...(r.name ? { name: r.name } : {}), match: r.match } as Route;
  if (r.route) out.route = r.route;
  if (r.redirect) out.redirect = r.redirect;
  if (r.directResponse) out.directResponse = r.directResponse;
  if (r.fault) out.fault = r.fault;
  if (r.cors) out.cors = r.cors;
  Object.assign(out, {
    requestHeadersToAdd: r.requestHeadersToAdd,
    requestHeadersToRemove: r.requestHeadersToRemove,
    responseHeadersToAdd: r.responseHeadersToAdd,
    responseHeadersToRemove: r.responseHeadersToRemove,
    operation: r.operation,
    istioConfig: r.istioConfig,
  });
  return out;
}
