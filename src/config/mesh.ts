import { LineCounter, parseDocument } from 'yaml';
import { FORWARD_CLIENT_CERT_DETAILS, type ForwardClientCertDetails, type MeshSettings } from './model.js';
import { parseDuration } from './duration.js';
import type { Diagnostic } from './diagnostics.js';

/** Istio's defaults for the fields of MeshConfig the proxy reads. */
export function defaultMesh(): MeshSettings {
  return {
    outboundTrafficPolicy: 'ALLOW_ANY',
    connectTimeoutMs: 10_000,
    drainDurationMs: 45_000,
    terminationDrainDurationMs: 5_000,
    tcpIdleTimeoutMs: 3_600_000,
    protocolDetectionTimeoutMs: 0,
    proxyMetadata: {},
    accessLogFile: '',
    accessLogEncoding: 'TEXT',
    dnsRefreshRateMs: 60_000,
    rootNamespace: 'istio-system',
    trustDomain: 'cluster.local',
    enableAutoMtls: true,
    defaultServiceExportTo: ['*'],
    defaultVirtualServiceExportTo: ['*'],
    defaultDestinationRuleExportTo: ['*'],
    gatewayTopology: { numTrustedProxies: 0, forwardClientCertDetails: 'SANITIZE_SET' },
  };
}

/** Reports a problem at a path under `data.mesh`, with the line inside the mesh YAML (1-based) when known. */
type Report = (path: string, message: string, severity?: Diagnostic['severity'], innerLine?: number) => void;

const IMPLEMENTED = new Set([
  'outboundTrafficPolicy', 'connectTimeout', 'dnsRefreshRate', 'defaultConfig', 'accessLogFile', 'accessLogEncoding',
  'rootNamespace', 'trustDomain', 'enableAutoMtls', 'defaultServiceExportTo', 'defaultVirtualServiceExportTo', 'defaultDestinationRuleExportTo', 'drainDuration', 'terminationDrainDuration',
  'protocolDetectionTimeout',
]);
const PROXY_CONFIG_IMPLEMENTED = new Set(['drainDuration', 'terminationDrainDuration', 'proxyMetadata', 'gatewayTopology']);

/**
 * Reads `data.mesh` of the `istio` ConfigMap (a YAML string) over the defaults. Invalid
 * values are reported as errors and leave the default in place; fields Legate does not
 * implement are warned about, by name.
 */
export function parseMesh(meshYaml: unknown, report: Report): MeshSettings {
  const mesh = defaultMesh();
  if (meshYaml === undefined || meshYaml === null) return mesh;
  const lc = new LineCounter();
  let m: Record<string, any>;
  let lineOf = (_path: (string | number)[]): number | undefined => undefined;
  if (typeof meshYaml === 'string') {
    const doc = parseDocument(meshYaml, { lineCounter: lc, uniqueKeys: true });
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      report('data.mesh', `not valid YAML: ${e.message.split('\n')[0]}`, 'error', e.pos ? lc.linePos(e.pos[0]).line : undefined);
      return mesh;
    }
    try {
      m = doc.toJS({ maxAliasCount: 100 }) as Record<string, any>;
    } catch (err) {
      // An alias without its anchor (or an alias bomb) parses but cannot be resolved.
      report('data.mesh', `not valid YAML: ${(err as Error).message}`);
      return mesh;
    }
    lineOf = (path) => {
      const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
      return node?.range ? lc.linePos(node.range[0]).line : undefined;
    };
  } else m = meshYaml as Record<string, any>;
  if (m === null || m === undefined) return mesh;
  if (typeof m !== 'object' || Array.isArray(m)) {
    report('data.mesh', 'must be a YAML mapping (MeshConfig)');
    return mesh;
  }
  const at = (path: (string | number)[], message: string, severity: Diagnostic['severity'] = 'error') =>
    report(['data', 'mesh', ...path].join('.'), message, severity, lineOf(path));
  const duration = (path: string[], value: unknown, set: (ms: number) => void) => {
    if (value === undefined) return;
    try {
      set(parseDuration(value));
    } catch (err) {
      at(path, (err as Error).message);
    }
  };
  for (const k of Object.keys(m)) if (!IMPLEMENTED.has(k)) at([k], `MeshConfig ${k} is not implemented: ignored`, 'warning');
  const mode = m.outboundTrafficPolicy?.mode;
  if (mode !== undefined) {
    if (mode === 'ALLOW_ANY' || mode === 'REGISTRY_ONLY') mesh.outboundTrafficPolicy = mode;
    else at(['outboundTrafficPolicy', 'mode'], `must be ALLOW_ANY or REGISTRY_ONLY, got ${JSON.stringify(mode)}`);
  }
  duration(['connectTimeout'], m.connectTimeout, (v) => (mesh.connectTimeoutMs = v));
  duration(['dnsRefreshRate'], m.dnsRefreshRate, (v) => (mesh.dnsRefreshRateMs = v));
  duration(['protocolDetectionTimeout'], m.protocolDetectionTimeout, (v) => (mesh.protocolDetectionTimeoutMs = v));
  const dc = m.defaultConfig ?? {};
  if (typeof dc === 'object' && dc !== null) {
    for (const k of Object.keys(dc)) if (!PROXY_CONFIG_IMPLEMENTED.has(k)) at(['defaultConfig', k], `ProxyConfig ${k} is not implemented: ignored`, 'warning');
  }
  duration(dc.drainDuration !== undefined ? ['defaultConfig', 'drainDuration'] : ['drainDuration'], dc.drainDuration ?? m.drainDuration, (v) => (mesh.drainDurationMs = v));
  duration(
    dc.terminationDrainDuration !== undefined ? ['defaultConfig', 'terminationDrainDuration'] : ['terminationDrainDuration'],
    dc.terminationDrainDuration ?? m.terminationDrainDuration,
    (v) => (mesh.terminationDrainDurationMs = v),
  );
  if (dc.proxyMetadata !== undefined) {
    if (typeof dc.proxyMetadata === 'object' && dc.proxyMetadata !== null) {
      for (const [k, v] of Object.entries(dc.proxyMetadata)) mesh.proxyMetadata[k] = String(v);
    } else at(['defaultConfig', 'proxyMetadata'], 'must be a map of strings');
  }
  if (dc.gatewayTopology !== undefined) readGatewayTopology(dc.gatewayTopology, mesh, at);
  if (m.accessLogFile !== undefined) mesh.accessLogFile = String(m.accessLogFile);
  if (m.accessLogEncoding !== undefined) {
    if (m.accessLogEncoding === 'TEXT' || m.accessLogEncoding === 'JSON') mesh.accessLogEncoding = m.accessLogEncoding;
    else at(['accessLogEncoding'], `must be TEXT or JSON, got ${JSON.stringify(m.accessLogEncoding)}`);
  }
  if (m.rootNamespace !== undefined) mesh.rootNamespace = String(m.rootNamespace);
  if (m.trustDomain !== undefined) {
    if (typeof m.trustDomain === 'string' && /^[a-z0-9.-]+$/i.test(m.trustDomain)) mesh.trustDomain = m.trustDomain;
    else at(['trustDomain'], 'must be a DNS-like name such as cluster.local');
  }
  if (m.enableAutoMtls !== undefined) {
    if (typeof m.enableAutoMtls === 'boolean') mesh.enableAutoMtls = m.enableAutoMtls;
    else at(['enableAutoMtls'], 'must be true or false');
  }
  for (const f of ['defaultServiceExportTo', 'defaultVirtualServiceExportTo', 'defaultDestinationRuleExportTo'] as const) {
    if (m[f] === undefined) continue;
    if (Array.isArray(m[f]) && m[f].every((x: unknown) => typeof x === 'string')) mesh[f] = [...m[f]];
    else at([f], 'must be a list of namespaces, "." or "*"');
  }
  return mesh;
}

/** ProxyConfig gatewayTopology (Istio's "Configuring Gateway Network Topology"): read by gateways only. */
function readGatewayTopology(t: unknown, mesh: MeshSettings, at: (path: (string | number)[], message: string, severity?: Diagnostic['severity']) => void): void {
  const base = ['defaultConfig', 'gatewayTopology'];
  if (typeof t !== 'object' || t === null) return at(base, 'must be a map');
  const { numTrustedProxies: n, forwardClientCertDetails: f, ...rest } = t as Record<string, unknown>;
  for (const k of Object.keys(rest)) at([...base, k], `gatewayTopology ${k} is not implemented: ignored`, 'warning');
  if (n !== undefined) {
    if (Number.isInteger(n) && (n as number) >= 0) mesh.gatewayTopology.numTrustedProxies = n as number;
    else at([...base, 'numTrustedProxies'], `must be a whole number, got ${JSON.stringify(n)}`);
  }
  if (f !== undefined) {
    if (FORWARD_CLIENT_CERT_DETAILS.includes(f as ForwardClientCertDetails)) mesh.gatewayTopology.forwardClientCertDetails = f as ForwardClientCertDetails;
    else at([...base, 'forwardClientCertDetails'], `must be one of ${FORWARD_CLIENT_CERT_DETAILS.join(', ')}, got ${JSON.stringify(f)}`);
  }
}
