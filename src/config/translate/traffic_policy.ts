import type { Cluster, HashPolicy, LocalityLbSetting, OutlierDetection, UpstreamTls } from '../model.js';
import { UNLIMITED } from '../model.js';
import type { ResourceReport } from './context.js';
import type { Path } from '../validate/fields.js';
import { isPlainObject, isPort, parseIstioDuration } from '../validate/values.js';
import type { PolicyBlocks, TrafficPolicyDef } from './types.js';

const SIMPLE_LB = new Set(['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST']);
const TLS_MODES = new Set(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']);
const H2_UPGRADE = new Set(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE']);

/** Validates a DestinationRule trafficPolicy (top level or a subset's) and keeps its blocks. */
export function readTrafficPolicy(tp: unknown, path: Path, r: ResourceReport): TrafficPolicyDef | undefined {
  if (!isPlainObject(tp)) return undefined;
  checkBlocks(tp, path, r);
  const portLevel = new Map<number, PolicyBlocks>();
  if (Array.isArray(tp.portLevelSettings)) {
    tp.portLevelSettings.forEach((pl: any, i: number) => {
      const at: Path = [...path, 'portLevelSettings', i];
      if (!isPlainObject(pl)) return;
      const n = pl.port?.number;
      if (!isPort(n)) return r.error([...at, 'port', 'number'], `port level settings need a port number (1–65535), got ${JSON.stringify(n)}`);
      if (portLevel.has(n)) return r.error([...at, 'port', 'number'], `port ${n} has port level settings twice`);
      checkBlocks(pl, at, r);
      portLevel.set(n, { loadBalancer: pl.loadBalancer, connectionPool: pl.connectionPool, outlierDetection: pl.outlierDetection, tls: pl.tls });
    });
  }
  return { loadBalancer: tp.loadBalancer, connectionPool: tp.connectionPool, outlierDetection: tp.outlierDetection, tls: tp.tls, portLevel };
}

function duration(v: unknown, path: Path, r: ResourceReport, allowZero = false): void {
  // Wrong types were reported by the schema check.
  if (typeof v !== 'string') return;
  const d = parseIstioDuration(v, { allowZero });
  if ('error' in d) r.error(path, d.error);
}

function nonNegative(obj: any, fields: string[], path: Path, r: ResourceReport, max?: number): void {
  for (const f of fields) {
    const v = obj?.[f];
    if (v === undefined || !Number.isInteger(v)) continue;
    if (v < 0) r.error([...path, f], `${f} must be non-negative, got ${v}`);
    else if (max !== undefined && v > max) r.error([...path, f], `${f} must be at most ${max}, got ${v}`);
  }
}

function checkBlocks(b: any, path: Path, r: ResourceReport): void {
  const lb = b.loadBalancer;
  if (isPlainObject(lb)) {
    const at: Path = [...path, 'loadBalancer'];
    if (lb.simple !== undefined && lb.consistentHash !== undefined) r.error(at, 'only one of simple or consistentHash can be set');
    if (lb.simple !== undefined && !SIMPLE_LB.has(lb.simple)) r.error([...at, 'simple'], `unknown load balancer ${JSON.stringify(lb.simple)} (${[...SIMPLE_LB].join(', ')})`);
    const ch = lb.consistentHash;
    if (isPlainObject(ch)) {
      const keys = ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'].filter((k) => ch[k] !== undefined && ch[k] !== false);
      if (keys.length !== 1) r.error([...at, 'consistentHash'], 'exactly one hash key is required: httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName');
      if (ch.httpCookie !== undefined) {
        if (typeof ch.httpCookie?.name !== 'string' || ch.httpCookie.name === '') r.error([...at, 'consistentHash', 'httpCookie', 'name'], 'cookie name is required');
        duration(ch.httpCookie?.ttl, [...at, 'consistentHash', 'httpCookie', 'ttl'], r, true);
      }
      if (ch.ringHash !== undefined && ch.maglev !== undefined) r.error([...at, 'consistentHash'], 'only one of ringHash or maglev can be set');
      if (ch.maglev?.tableSize !== undefined && !isPrime(ch.maglev.tableSize)) r.error([...at, 'consistentHash', 'maglev', 'tableSize'], 'table size must be a prime number');
    }
    duration(lb.warmupDurationSecs, [...at, 'warmupDurationSecs'], r);
    const loc = lb.localityLbSetting;
    if (isPlainObject(loc)) {
      if (Array.isArray(loc.distribute) && Array.isArray(loc.failover) && loc.distribute.length > 0 && loc.failover.length > 0)
        r.error([...at, 'localityLbSetting'], 'only one of distribute or failover can be set');
      (Array.isArray(loc.distribute) ? loc.distribute : []).forEach((d: any, i: number) => {
        const sum = Object.values(isPlainObject(d?.to) ? d.to : {}).reduce((a: number, v) => a + (Number(v) || 0), 0);
        if (sum !== 100) r.error([...at, 'localityLbSetting', 'distribute', i, 'to'], `locality weights must sum to 100, got ${sum}`);
      });
    }
  }
  const cp = b.connectionPool;
  if (isPlainObject(cp)) {
    const at: Path = [...path, 'connectionPool'];
    nonNegative(cp.tcp, ['maxConnections'], [...at, 'tcp'], r);
    duration(cp.tcp?.connectTimeout, [...at, 'tcp', 'connectTimeout'], r);
    duration(cp.tcp?.maxConnectionDuration, [...at, 'tcp', 'maxConnectionDuration'], r);
    duration(cp.tcp?.idleTimeout, [...at, 'tcp', 'idleTimeout'], r);
    duration(cp.tcp?.tcpKeepalive?.time, [...at, 'tcp', 'tcpKeepalive', 'time'], r);
    duration(cp.tcp?.tcpKeepalive?.interval, [...at, 'tcp', 'tcpKeepalive', 'interval'], r);
    nonNegative(cp.http, ['http1MaxPendingRequests', 'http2MaxRequests', 'maxRequestsPerConnection', 'maxRetries', 'maxConcurrentStreams'], [...at, 'http'], r);
    duration(cp.http?.idleTimeout, [...at, 'http', 'idleTimeout'], r);
    if (cp.http?.h2UpgradePolicy !== undefined && !H2_UPGRADE.has(cp.http.h2UpgradePolicy))
      r.error([...at, 'http', 'h2UpgradePolicy'], `must be one of ${[...H2_UPGRADE].join(', ')}`);
  }
  const od = b.outlierDetection;
  if (isPlainObject(od)) {
    const at: Path = [...path, 'outlierDetection'];
    nonNegative(od, ['consecutiveErrors', 'consecutiveLocalOriginFailures', 'consecutiveGatewayErrors', 'consecutive5xxErrors'], at, r);
    nonNegative(od, ['maxEjectionPercent', 'minHealthPercent'], at, r, 100);
    duration(od.interval, [...at, 'interval'], r);
    duration(od.baseEjectionTime, [...at, 'baseEjectionTime'], r);
  }
  const tls = b.tls;
  if (isPlainObject(tls)) {
    const at: Path = [...path, 'tls'];
    const mode = tls.mode ?? 'DISABLE';
    if (!TLS_MODES.has(mode)) r.error([...at, 'mode'], `must be one of ${[...TLS_MODES].join(', ')}, got ${JSON.stringify(tls.mode)}`);
    if (mode === 'ISTIO_MUTUAL' && (tls.clientCertificate || tls.privateKey || tls.caCertificates || tls.credentialName))
      r.error(at, 'ISTIO_MUTUAL uses the mesh certificates: clientCertificate, privateKey, caCertificates and credentialName cannot be set');
    if (mode === 'MUTUAL' && !tls.credentialName && (!tls.clientCertificate || !tls.privateKey))
      r.error(at, 'MUTUAL needs clientCertificate and privateKey (or credentialName)');
    // Sidecars read certificates from files; a Kubernetes secret name means nothing without the gateway's secret mapping.
  }
}

function isPrime(n: unknown): boolean {
  if (!Number.isInteger(n) || (n as number) < 2) return false;
  for (let i = 2; i * i <= (n as number); i++) if ((n as number) % i === 0) return false;
  return true;
}

/** Blocks in force for a port: the port-level block replaces the top-level block of the same name. */
export function blocksForPort(tp: TrafficPolicyDef | undefined, port: number): PolicyBlocks {
  if (!tp) return {};
  const pl = tp.portLevel.get(port);
  return {
    loadBalancer: pl?.loadBalancer ?? tp.loadBalancer,
    connectionPool: pl?.connectionPool ?? tp.connectionPool,
    outlierDetection: pl?.outlierDetection ?? tp.outlierDetection,
    tls: pl?.tls ?? tp.tls,
  };
}

/** Istio's MergeTrafficPolicy: a subset's blocks (after its own port-level settings) replace the rule's. */
export function effectivePolicy(rule: TrafficPolicyDef | undefined, subset: TrafficPolicyDef | undefined, port: number): PolicyBlocks {
  const base = blocksForPort(rule, port);
  if (!subset) return base;
  const sub = blocksForPort(subset, port);
  return {
    loadBalancer: sub.loadBalancer ?? base.loadBalancer,
    connectionPool: sub.connectionPool ?? base.connectionPool,
    outlierDetection: sub.outlierDetection ?? base.outlierDetection,
    tls: sub.tls ?? base.tls,
  };
}

const ms = (v: unknown): number | undefined => {
  if (v === undefined) return undefined;
  const d = parseIstioDuration(v, { allowZero: true });
  return 'ms' in d ? d.ms : undefined;
};

export function hashPolicyOf(ch: any): HashPolicy | undefined {
  if (!isPlainObject(ch)) return undefined;
  if (ch.httpHeaderName) return { header: { headerName: String(ch.httpHeaderName).toLowerCase() } };
  if (ch.httpCookie) return { cookie: { name: ch.httpCookie.name, path: ch.httpCookie.path, ttlMs: ms(ch.httpCookie.ttl) } };
  if (ch.useSourceIp) return { connectionProperties: { sourceIp: true } };
  if (ch.httpQueryParameterName) return { queryParameter: { name: ch.httpQueryParameterName } };
  return undefined;
}

/** Istio's defaults on every outbound cluster: unlimited circuit breakers, LEAST_REQUEST. */
const DEFAULT_CIRCUIT_BREAKERS = Object.freeze({ maxConnections: UNLIMITED, maxPendingRequests: UNLIMITED, maxRequests: UNLIMITED, maxRetries: UNLIMITED, trackRemaining: true });
/** Shared and frozen (see defaultRetryPolicy); a DestinationRule's connectionPool makes a copy. */
export function defaultCircuitBreakers(): NonNullable<Cluster['circuitBreakers']> {
  return DEFAULT_CIRCUIT_BREAKERS;
}

/** Applies validated policy blocks to a cluster (Istio's applyTrafficPolicy). */
export function applyPolicy(c: Cluster, p: PolicyBlocks): void {
  const lb = p.loadBalancer;
  if (isPlainObject(lb)) {
    if (lb.simple === 'ROUND_ROBIN') c.lbPolicy = 'ROUND_ROBIN';
    else if (lb.simple === 'RANDOM') c.lbPolicy = 'RANDOM';
    else if (lb.simple === 'LEAST_CONN' || lb.simple === 'LEAST_REQUEST') c.lbPolicy = 'LEAST_REQUEST';
    else if (lb.simple === 'PASSTHROUGH') {
      c.type = 'ORIGINAL_DST';
      c.lbPolicy = 'CLUSTER_PROVIDED';
      c.endpoints = [];
    }
    const ch = lb.consistentHash;
    if (isPlainObject(ch)) {
      c.consistentHash = hashPolicyOf(ch);
      if (ch.maglev) {
        c.lbPolicy = 'MAGLEV';
        c.maglev = { tableSize: ch.maglev.tableSize ?? 65537 };
      } else {
        c.lbPolicy = 'RING_HASH';
        c.ringHash = { minimumRingSize: ch.ringHash?.minimumRingSize ?? ch.minimumRingSize ?? 1024 };
      }
    }
    if (lb.warmupDurationSecs !== undefined) c.slowStartWindowMs = ms(lb.warmupDurationSecs);
    if (isPlainObject(lb.localityLbSetting)) c.localityLbSetting = lb.localityLbSetting as LocalityLbSetting;
  }
  const cp = p.connectionPool;
  if (isPlainObject(cp)) {
    c.circuitBreakers = circuitBreakersOf(cp);
    const tcp = cp.tcp ?? {};
    const http = cp.http ?? {};

    if (tcp.connectTimeout !== undefined) c.connectTimeoutMs = ms(tcp.connectTimeout)!;
    if (tcp.maxConnectionDuration !== undefined) c.maxConnectionDurationMs = ms(tcp.maxConnectionDuration);
    if (tcp.tcpKeepalive) c.tcpKeepalive = { probes: tcp.tcpKeepalive.probes, timeMs: ms(tcp.tcpKeepalive.time), intervalMs: ms(tcp.tcpKeepalive.interval) };
    if (http.maxRequestsPerConnection > 0) c.maxRequestsPerConnection = http.maxRequestsPerConnection;
    const idle = http.idleTimeout ?? tcp.idleTimeout;
    if (idle !== undefined) c.idleTimeoutMs = ms(idle);
    if (http.h2UpgradePolicy === 'UPGRADE' || http.maxConcurrentStreams > 0)
      c.http2 = { upgrade: http.h2UpgradePolicy === 'UPGRADE' || undefined, maxConcurrentStreams: http.maxConcurrentStreams || undefined };
    if (http.useClientProtocol) c.useClientProtocol = true;
  }
  if (isPlainObject(p.outlierDetection)) c.outlierDetection = outlierOf(p.outlierDetection);
  if (isPlainObject(p.tls)) {
    c.tls = upstreamTls(p.tls);
    autoServerName(c, c.tls);
  }
}

/**
 * istiod's auto SNI and auto SAN validation for TLS origination (SIMPLE / MUTUAL): without a
 * rule `sni` the proxy sends each request's Host as SNI, and — unless the rule names
 * `subjectAltNames` or skips verification — checks the server certificate against it. This is
 * what makes Istio's egress TLS-origination task work with no `sni` in its DestinationRule.
 */
function autoServerName(c: Cluster, tls: UpstreamTls): void {
  delete c.autoSni;
  delete c.autoSanValidation;
  if ((tls.mode !== 'SIMPLE' && tls.mode !== 'MUTUAL') || tls.sni) return;
  c.autoSni = true;
  if (!tls.subjectAltNames?.length && !tls.insecureSkipVerify) c.autoSanValidation = true;
}

/**
 * Derived blocks are shared by every cluster built from the same (memoized) policy block —
 * the subsets of one rule, typically — so a snapshot's structured clone keeps one copy.
 */
const derived = new WeakMap<object, unknown>();
function memoOn<T>(key: object, make: () => T): T {
  let v = derived.get(key) as T | undefined;
  if (v === undefined) derived.set(key, (v = make()));
  return v;
}

function circuitBreakersOf(cp: any): NonNullable<Cluster['circuitBreakers']> {
  return memoOn(cp, () => {
    const cb = { ...DEFAULT_CIRCUIT_BREAKERS };
    const tcp = cp.tcp ?? {};
    const http = cp.http ?? {};
    if (tcp.maxConnections > 0) cb.maxConnections = tcp.maxConnections;
    if (http.http1MaxPendingRequests > 0) cb.maxPendingRequests = http.http1MaxPendingRequests;
    if (http.http2MaxRequests > 0) cb.maxRequests = http.http2MaxRequests;
    if (http.maxRetries > 0) cb.maxRetries = http.maxRetries;
    return Object.freeze(cb);
  });
}

function outlierOf(od: any): OutlierDetection {
  return memoOn(od, () => Object.freeze(outlier(od)));
}

/** Istio's outlier detection: success-rate ejection off, 5xx / gateway errors enforced when given. */
function outlier(od: any): OutlierDetection {
  const consecutive5xx = od.consecutive5xxErrors ?? (od.consecutiveErrors > 0 ? od.consecutiveErrors : undefined);
  const out: OutlierDetection = {
    consecutive5xx: consecutive5xx ?? 5,
    enforcingConsecutive5xx: consecutive5xx === 0 ? 0 : 100,
    consecutiveGatewayFailure: od.consecutiveGatewayErrors ?? 5,
    enforcingConsecutiveGatewayFailure: od.consecutiveGatewayErrors > 0 ? 100 : 0,
    splitExternalLocalOriginErrors: od.splitExternalLocalOriginErrors === true,
    intervalMs: ms(od.interval) ?? 10_000,
    baseEjectionTimeMs: ms(od.baseEjectionTime) ?? 30_000,
    maxEjectionPercent: od.maxEjectionPercent ?? 10,
    enforcingSuccessRate: 0,
  };
  if (od.splitExternalLocalOriginErrors && od.consecutiveLocalOriginFailures > 0) out.consecutiveLocalOriginFailure = od.consecutiveLocalOriginFailures;
  if (od.minHealthPercent !== undefined) out.healthyPanicThreshold = od.minHealthPercent;
  return out;
}

function upstreamTls(t: any): UpstreamTls {
  const out: UpstreamTls = { mode: t.mode ?? 'DISABLE' };
  if (t.sni) out.sni = t.sni;
  if (Array.isArray(t.subjectAltNames) && t.subjectAltNames.length) out.subjectAltNames = [...t.subjectAltNames];
  for (const k of ['caCertificates', 'clientCertificate', 'privateKey', 'credentialName'] as const) if (t[k]) out[k] = t[k];
  if (t.insecureSkipVerify) out.insecureSkipVerify = true;
  return out;
}
