import { parse as parseYaml } from 'yaml';
import type { MeshSettings } from './model.js';
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
    proxyMetadata: {},
    accessLogFile: '',
    accessLogEncoding: 'TEXT',
    dnsRefreshRateMs: 60_000,
  };
}

type Report = (path: string, message: string, severity?: Diagnostic['severity']) => void;

/**
 * Reads `data.mesh` of the `istio` ConfigMap (a YAML string) over the defaults. Invalid
 * values are reported as errors and leave the default in place.
 */
export function parseMesh(meshYaml: unknown, report: Report): MeshSettings {
  const mesh = defaultMesh();
  if (meshYaml === undefined) return mesh;
  let doc: unknown;
  try {
    doc = typeof meshYaml === 'string' ? parseYaml(meshYaml) : meshYaml;
  } catch (err) {
    report('data.mesh', `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    return mesh;
  }
  if (doc === null || doc === undefined) return mesh;
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    report('data.mesh', 'must be a YAML mapping (MeshConfig)');
    return mesh;
  }
  const m = doc as Record<string, any>;
  const duration = (field: string, value: unknown, set: (ms: number) => void, path = `data.mesh.${field}`) => {
    if (value === undefined) return;
    try {
      set(parseDuration(value));
    } catch (err) {
      report(path, (err as Error).message);
    }
  };
  const mode = m.outboundTrafficPolicy?.mode;
  if (mode !== undefined) {
    if (mode === 'ALLOW_ANY' || mode === 'REGISTRY_ONLY') mesh.outboundTrafficPolicy = mode;
    else report('data.mesh.outboundTrafficPolicy.mode', `must be ALLOW_ANY or REGISTRY_ONLY, got ${JSON.stringify(mode)}`);
  }
  duration('connectTimeout', m.connectTimeout, (v) => (mesh.connectTimeoutMs = v));
  duration('dnsRefreshRate', m.dnsRefreshRate, (v) => (mesh.dnsRefreshRateMs = v));
  const dc = m.defaultConfig ?? {};
  duration('drainDuration', dc.drainDuration ?? m.drainDuration, (v) => (mesh.drainDurationMs = v), 'data.mesh.defaultConfig.drainDuration');
  duration(
    'terminationDrainDuration',
    dc.terminationDrainDuration ?? m.terminationDrainDuration,
    (v) => (mesh.terminationDrainDurationMs = v),
    'data.mesh.defaultConfig.terminationDrainDuration',
  );
  if (dc.proxyMetadata !== undefined) {
    if (typeof dc.proxyMetadata === 'object' && dc.proxyMetadata !== null) {
      for (const [k, v] of Object.entries(dc.proxyMetadata)) mesh.proxyMetadata[k] = String(v);
    } else report('data.mesh.defaultConfig.proxyMetadata', 'must be a map of strings');
  }
  if (m.accessLogFile !== undefined) mesh.accessLogFile = String(m.accessLogFile);
  if (m.accessLogEncoding !== undefined) {
    if (m.accessLogEncoding === 'TEXT' || m.accessLogEncoding === 'JSON') mesh.accessLogEncoding = m.accessLogEncoding;
    else report('data.mesh.accessLogEncoding', `must be TEXT or JSON, got ${JSON.stringify(m.accessLogEncoding)}`);
  }
  return mesh;
}
