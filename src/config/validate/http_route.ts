import type { ResourceReport } from '../translate/context.js';
import type { Path } from './fields.js';
import { re2Error } from './regex.js';
import { headerNameError, headerValueError, hostError, isDns1123Label, isPlainObject, isPort, parseIstioDuration } from './values.js';

/** Envoy's retry_on values that Istio accepts (plus HTTP status codes). */
export const RETRY_ON = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream', 'retriable-status-codes',
  'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure', 'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE']);
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

function duration(v: unknown, path: Path, r: ResourceReport): void {
  // Wrong types were reported by the schema check.
  if (typeof v !== 'string') return;
  const d = parseIstioDuration(v);
  if ('error' in d) r.error(path, d.error);
}

function percentage(p: any, path: Path, r: ResourceReport): void {
  const v = p?.value;
  if (typeof v !== 'number') return;
  if (v < 0 || v > 100) r.error([...path, 'value'], `percentage ${v} is not in range 0..100`);
}

/** A StringMatch: exactly one of exact / prefix / regex (regex in RE2). `{}` is allowed where `allowEmpty` (presence). */
export function checkStringMatch(m: unknown, path: Path, r: ResourceReport, allowEmpty = false): void {
  if (!isPlainObject(m)) return;
  const set = ['exact', 'prefix', 'regex'].filter((k) => m[k] !== undefined);
  if (set.length > 1) r.error(path, `only one of exact, prefix or regex can be set (got ${set.join(', ')})`);
  if (set.length === 0 && !allowEmpty) r.error(path, 'one of exact, prefix or regex is required');
  if (typeof m.regex === 'string') r.check([...path, 'regex'], re2Error(m.regex));
}

export function checkDestination(d: unknown, path: Path, r: ResourceReport): void {
  if (!isPlainObject(d)) return r.error(path, 'destination is required');
  if (typeof d.host !== 'string' || d.host === '') return r.error([...path, 'host'], 'destination host is required');
  if (d.host === '*') return r.error([...path, 'host'], 'destination host cannot be "*"');
  r.check([...path, 'host'], hostError(d.host, { wildcard: true, ip: true }));
  if (d.subset !== undefined && (typeof d.subset !== 'string' || !isDns1123Label(d.subset))) r.error([...path, 'subset'], `subset ${JSON.stringify(d.subset)} must be a DNS label`);
  if (d.port !== undefined && !isPort(d.port?.number)) r.error([...path, 'port', 'number'], `invalid port ${JSON.stringify(d.port?.number)} (1–65535)`);
}

/** `total destination weight N != 100` when there are several destinations, as Istio says it. */
export function checkWeights(dests: unknown[], path: Path, r: ResourceReport): void {
  let total = 0;
  dests.forEach((d: any, i) => {
    const w = d?.weight ?? 0;
    if (Number.isInteger(w) && (w < 0 || w > 100)) r.error([...path, i, 'weight'], `weight ${w} is not in range 0..100`);
    total += Number.isInteger(w) ? w : 0;
  });
  if (dests.length > 1 && total !== 100) r.error(path, `total destination weight ${total} != 100`);
}

function checkHeaderOps(h: any, path: Path, r: ResourceReport): void {
  if (!isPlainObject(h)) return;
  for (const dir of ['request', 'response'] as const) {
    const ops = h[dir];
    if (!isPlainObject(ops)) continue;
    for (const op of ['set', 'add'] as const) {
      for (const [name, value] of Object.entries(isPlainObject(ops[op]) ? ops[op] : {})) {
        const at = [...path, dir, op, name];
        const authority = /^(:authority|host)$/i.test(name);
        if (name.startsWith(':') && !(dir === 'request' && authority)) r.error(at, `invalid header ${JSON.stringify(name)}: header cannot have ":" prefix`);
        else if (dir === 'response' && authority) r.error(at, `invalid header ${JSON.stringify(name)}: cannot set Host header`);
        r.check(at, headerValueError(value));
      }
    }
    (Array.isArray(ops.remove) ? ops.remove : []).forEach((name: unknown, i: number) => {
      if (typeof name !== 'string') return;
      if (name.startsWith(':') || /^host$/i.test(name)) r.error([...path, dir, 'remove', i], `invalid header ${JSON.stringify(name)}: cannot remove it`);
    });
  }
}

function checkMatch(m: any, path: Path, r: ResourceReport): void {
  if (!isPlainObject(m)) return;
  for (const f of ['uri', 'scheme', 'method', 'authority'] as const) checkStringMatch(m[f], [...path, f], r);
  if (typeof m.method?.exact === 'string' && !METHODS.has(m.method.exact)) r.warn([...path, 'method', 'exact'], `${m.method.exact} is not a standard HTTP method`);
  for (const f of ['headers', 'withoutHeaders'] as const) {
    for (const [name, sm] of Object.entries(isPlainObject(m[f]) ? m[f] : {})) {
      if (sm === null) r.error([...path, f, name], `header match ${name} cannot be null`);
      if (name.startsWith('@request.auth.claims')) r.warn([...path, f, name], 'JWT claim based routing is not implemented: this match never succeeds');
      else r.check([...path, f, name], headerNameError(name));
      checkStringMatch(sm, [...path, f, name], r, true);
    }
  }
  for (const [name, sm] of Object.entries(isPlainObject(m.queryParams) ? m.queryParams : {})) checkStringMatch(sm, [...path, 'queryParams', name], r, true);
  if (m.port !== undefined && !isPort(m.port)) r.error([...path, 'port'], `invalid port ${JSON.stringify(m.port)} (1–65535)`);
  if (m.sourceNamespace !== undefined && !isDns1123Label(String(m.sourceNamespace))) r.error([...path, 'sourceNamespace'], `sourceNamespace ${JSON.stringify(m.sourceNamespace)} is not a valid namespace`);
}

/** Istio's validateHTTPRoute. */
export function checkHttpRoute(h: any, path: Path, r: ResourceReport): void {
  if (!isPlainObject(h)) return;
  const hasRoute = Array.isArray(h.route) && h.route.length > 0;
  if (h.redirect !== undefined) {
    if (hasRoute) r.error(path, 'HTTP route cannot contain both route and redirect');
    if (h.fault !== undefined) r.error(path, 'HTTP route cannot contain both fault and redirect');
    if (h.rewrite !== undefined) r.error(path, 'HTTP route rule cannot contain both rewrite and redirect');
  }
  if (h.directResponse !== undefined) {
    if (hasRoute) r.error(path, 'HTTP route cannot contain both route and directResponse');
    if (h.redirect !== undefined) r.error(path, 'HTTP route cannot contain both redirect and directResponse');
  }
  // `directResponse:` with nothing after it is null in YAML: as good as absent.
  if (!hasRoute && h.redirect == null && h.directResponse == null && h.delegate == null)
    r.error(path, 'HTTP route, redirect or directResponse is required');
  (Array.isArray(h.match) ? h.match : []).forEach((m: any, i: number) => checkMatch(m, [...path, 'match', i], r));
  if (hasRoute) {
    h.route.forEach((d: any, i: number) => {
      checkDestination(d?.destination, [...path, 'route', i, 'destination'], r);
      checkHeaderOps(d?.headers, [...path, 'route', i, 'headers'], r);
    });
    checkWeights(h.route, [...path, 'route'], r);
  }
  checkHeaderOps(h.headers, [...path, 'headers'], r);
  const rd = h.redirect;
  if (isPlainObject(rd)) {
    if (!rd.uri && !rd.authority && rd.port === undefined && !rd.scheme && !rd.derivePort) r.error([...path, 'redirect'], 'redirect must specify uri, authority, scheme or port');
    if (rd.redirectCode !== undefined && !REDIRECT_CODES.has(rd.redirectCode)) r.error([...path, 'redirect', 'redirectCode'], `redirect code ${rd.redirectCode} is not one of 301, 302, 303, 307, 308`);
    if (rd.port !== undefined && !isPort(rd.port)) r.error([...path, 'redirect', 'port'], `invalid port ${JSON.stringify(rd.port)}`);
    if (rd.port !== undefined && rd.derivePort !== undefined) r.error([...path, 'redirect'], 'only one of port or derivePort can be set');
    if (rd.derivePort !== undefined && rd.derivePort !== 'FROM_PROTOCOL_DEFAULT' && rd.derivePort !== 'FROM_REQUEST_PORT')
      r.error([...path, 'redirect', 'derivePort'], 'must be FROM_PROTOCOL_DEFAULT or FROM_REQUEST_PORT');
  }
  const dr = h.directResponse;
  if (isPlainObject(dr)) {
    if (!Number.isInteger(dr.status) || dr.status < 200 || dr.status > 599) r.error([...path, 'directResponse', 'status'], `status ${JSON.stringify(dr.status)} must be in range 200..599`);
    if (isPlainObject(dr.body) && dr.body.string !== undefined && dr.body.bytes !== undefined) r.error([...path, 'directResponse', 'body'], 'only one of string or bytes can be set');
  }
  const rw = h.rewrite;
  if (isPlainObject(rw)) {
    if (rw.uri !== undefined && rw.uriRegexRewrite !== undefined) r.error([...path, 'rewrite'], 'only one of uri or uriRegexRewrite can be set');
    if (typeof rw.uriRegexRewrite?.match === 'string') r.check([...path, 'rewrite', 'uriRegexRewrite', 'match'], re2Error(rw.uriRegexRewrite.match));
    const authSet = Object.keys(h.headers?.request?.set ?? {}).concat(Object.keys(h.headers?.request?.add ?? {})).some((k) => /^(:authority|host)$/i.test(k));
    if (rw.authority && authSet) r.error([...path, 'rewrite', 'authority'], 'authority header cannot be set multiple times');
  }
  duration(h.timeout, [...path, 'timeout'], r);
  const rt = h.retries;
  if (isPlainObject(rt)) {
    if (Number.isInteger(rt.attempts) && rt.attempts < 0) r.error([...path, 'retries', 'attempts'], 'attempts cannot be negative');
    duration(rt.perTryTimeout, [...path, 'retries', 'perTryTimeout'], r);
    if (typeof rt.retryOn === 'string') {
      for (const p of rt.retryOn.split(',').map((s: string) => s.trim())) {
        if (p === '' || RETRY_ON.has(p)) continue;
        const code = Number(p);
        if (!/^\d+$/.test(p) || code < 100 || code > 599) r.error([...path, 'retries', 'retryOn'], `${p} is not a valid retryOn policy`);
      }
    }
  }
  const f = h.fault;
  if (isPlainObject(f)) {
    if (f.delay === undefined && f.abort === undefined) r.error([...path, 'fault'], 'fault must have a delay or an abort');
    if (isPlainObject(f.delay)) {
      if (f.delay.fixedDelay === undefined && f.delay.exponentialDelay === undefined) r.error([...path, 'fault', 'delay'], 'fixedDelay is required');
      duration(f.delay.fixedDelay, [...path, 'fault', 'delay', 'fixedDelay'], r);
      percentage(f.delay.percentage, [...path, 'fault', 'delay', 'percentage'], r);
      if (Number.isInteger(f.delay.percent) && (f.delay.percent < 0 || f.delay.percent > 100)) r.error([...path, 'fault', 'delay', 'percent'], 'percent must be in range 0..100');
    }
    if (isPlainObject(f.abort)) {
      const kinds = ['httpStatus', 'grpcStatus', 'http2Error'].filter((k) => f.abort[k] !== undefined);
      if (kinds.length !== 1) r.error([...path, 'fault', 'abort'], 'exactly one of httpStatus, grpcStatus or http2Error is required');
      if (f.abort.httpStatus !== undefined && (!Number.isInteger(f.abort.httpStatus) || f.abort.httpStatus < 200 || f.abort.httpStatus > 599))
        r.error([...path, 'fault', 'abort', 'httpStatus'], `httpStatus ${JSON.stringify(f.abort.httpStatus)} must be in range 200..599`);
      if (f.abort.grpcStatus !== undefined && !(String(f.abort.grpcStatus) in GRPC_CODES))
        r.error([...path, 'fault', 'abort', 'grpcStatus'], `unknown gRPC status ${JSON.stringify(f.abort.grpcStatus)} (e.g. UNAVAILABLE)`);
      percentage(f.abort.percentage, [...path, 'fault', 'abort', 'percentage'], r);
    }
  }
  if (h.mirror !== undefined) checkDestination(h.mirror, [...path, 'mirror'], r);
  (Array.isArray(h.mirrors) ? h.mirrors : []).forEach((m: any, i: number) => {
    checkDestination(m?.destination, [...path, 'mirrors', i, 'destination'], r);
    percentage(m?.percentage, [...path, 'mirrors', i, 'percentage'], r);
  });
  if (h.mirror !== undefined && h.mirrors !== undefined) r.error(path, 'only one of mirror or mirrors can be set');
  percentage(h.mirrorPercentage, [...path, 'mirrorPercentage'], r);
  const mp = h.mirrorPercent ?? h.mirror_percent;
  if (Number.isInteger(mp) && (mp < 0 || mp > 100)) r.error([...path, 'mirrorPercent'], `mirrorPercent ${mp} must be at most 100`);
  const cors = h.corsPolicy;
  if (isPlainObject(cors)) {
    (Array.isArray(cors.allowOrigins) ? cors.allowOrigins : []).forEach((o: unknown, i: number) => checkStringMatch(o, [...path, 'corsPolicy', 'allowOrigins', i], r));
    for (const f2 of ['allowHeaders', 'exposeHeaders'] as const)
      (Array.isArray(cors[f2]) ? cors[f2] : []).forEach((n: unknown, i: number) => {
        if (typeof n === 'string' && n !== '*') r.check([...path, 'corsPolicy', f2, i], headerNameError(n));
      });
    (Array.isArray(cors.allowMethods) ? cors.allowMethods : []).forEach((m: unknown, i: number) => {
      if (typeof m === 'string' && m !== '*' && !METHODS.has(m)) r.error([...path, 'corsPolicy', 'allowMethods', i], `${m} is not a supported method`);
    });
    duration(cors.maxAge, [...path, 'corsPolicy', 'maxAge'], r);
    if (cors.unmatchedPreflights !== undefined && cors.unmatchedPreflights !== 'FORWARD' && cors.unmatchedPreflights !== 'IGNORE' && cors.unmatchedPreflights !== 'UNSPECIFIED')
      r.error([...path, 'corsPolicy', 'unmatchedPreflights'], 'must be FORWARD or IGNORE');
  }
}

/** gRPC status names Istio accepts in fault.abort.grpcStatus, with their codes. */
export const GRPC_CODES: Record<string, number> = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
};
