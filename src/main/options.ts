import { availableParallelism } from 'node:os';
import { LegateError } from '../errors.js';
import { parseDuration } from '../config/duration.js';
import type { AcceptMode } from './protocol.js';
import { DEFAULT_CREDENTIAL_DIR } from '../tls/credentials.js';

/** Everything `legate proxy sidecar` can be told, with defaults in one place. */
export interface ProxyOptions {
  config: string[];
  concurrency: number;
  outboundPort: number;
  inboundPort: number;
  adminAddress: string;
  adminPort: number;
  readinessPort: number;
  prometheusPort: number;
  /** pilot-agent's status port (merged metrics, app probes, readiness); 0: not served. */
  statusPort: number;
  acceptMode: AcceptMode;
  /** TPROXY interception: the original destination is the socket's local address. */
  transparent: boolean;
  /** Where inbound connections go: `localhost` (127.0.0.1) or an address (the pod IP). */
  inboundTarget: string;
  backlog: number;
  statsCapacity: number;
  /** ISTIO_META_DNS_CAPTURE / _AUTO_ALLOCATE; undefined: the mesh's proxyMetadata decides. */
  dnsCapture?: boolean;
  dnsAutoAllocate?: boolean;
  /** The DNS proxy's address and port (Istio's 127.0.0.1:15053). */
  dnsAddress: string;
  dnsPort: number;
  /** Upstream DNS servers `ip[:port]` (flag repeatable or comma-separated); empty: /etc/resolv.conf. */
  dnsUpstream: string[];
  podNamespace?: string;
  /** `host:port` of an ADS management server: configuration from xDS instead of --config files. */
  xds?: string;
  /** Delta xDS (Istio's default); false: State of the World. */
  xdsDelta: boolean;
  /** The proxy's own labels (`k=v,k2=v2`): Gateway selectors (router), Sidecar workloadSelector, sourceLabels; `app`, `version` and `service.istio.io/canonical-*` for Istio's metrics. */
  proxyLabels?: Record<string, string>;
  /**
   * The proxy's own `region/zone/subzone`, for locality load balancing; else the proxy label
   * `topology.istio.io/locality` (dots for slashes, as Kubernetes labels need); else unknown.
   */
  locality?: string;
  /** Istio's metric labels: POD_NAME, ISTIO_META_WORKLOAD_NAME (else derived from the pod name), ISTIO_META_CLUSTER_ID, ISTIO_META_MESH_ID. */
  podName?: string;
  workloadName?: string;
  clusterId?: string;
  meshId?: string;
  /** Istio's standard metrics off (they cost a Map lookup and a few additions per request); Envoy's stats stay. */
  disableIstioStats: boolean;
  /** How many Istio label sets (peer × code × flags × protocol) the shared table holds. */
  istioStatsSeries: number;
  /** Envoy's HCM stream_idle_timeout for the sidecar's HTTP listeners, ms (0: disabled, as Istio sets it). */
  streamIdleTimeoutMs: number;
  /** Envoy's HCM request_headers_timeout, ms (0: disabled, Envoy's and Istio's default). */
  requestHeadersTimeoutMs: number;
  /** Envoy's overload manager global_downstream_max_connections: accepted connections over this are closed at once (0: no limit). */
  maxConnections: number;
  /** Istio's file-mounted workload certificate: `cert-chain.pem`, `key.pem`, `root-cert.pem`, reloaded when they change. */
  certDir: string;
  /** Gateway `credentialName` secrets as directories: `<dir>/<name>/tls.crt`, `tls.key`, `ca.crt`. */
  credentialDir: string;
  /** V8 semi-space size of the worker threads in MiB (0: V8's own sizing); see worker_v8.ts. */
  workerSemiSpaceMb: number;
  /** Workers poll their sockets without sleeping (HAProxy's busy-polling): lower latency, each worker's core at 100 %. */
  busyPoll: boolean;
}

export const PROXY_DEFAULTS: Omit<ProxyOptions, 'config' | 'concurrency' | 'dnsUpstream'> = {
  outboundPort: 15001,
  inboundPort: 15006,
  adminAddress: '127.0.0.1',
  adminPort: 15000,
  readinessPort: 15021,
  prometheusPort: 15090,
  statusPort: 15020,
  acceptMode: 'handoff',
  transparent: false,
  inboundTarget: '127.0.0.1',
  backlog: 4096,
  statsCapacity: 1 << 20,
  disableIstioStats: false,
  istioStatsSeries: 4096,
  dnsAddress: '127.0.0.1',
  dnsPort: 15053,
  xdsDelta: true,
  streamIdleTimeoutMs: 0,
  requestHeadersTimeoutMs: 0,
  maxConnections: 0,
  certDir: '/etc/certs',
  credentialDir: DEFAULT_CREDENTIAL_DIR,
  workerSemiSpaceMb: 2,
  busyPoll: false,
};

interface FlagSpec {
  key: keyof ProxyOptions;
  kind: 'int' | 'port' | 'string' | 'bool' | 'list' | 'enum' | 'labels' | 'duration' | 'count';
  env?: string;
  values?: readonly string[];
}

/** Flags, and the Istio-style environment variable each one also reads. */
const FLAGS: Record<string, FlagSpec> = {
  '--config': { key: 'config', kind: 'list', env: 'LEGATE_CONFIG' },
  '--concurrency': { key: 'concurrency', kind: 'int', env: 'LEGATE_CONCURRENCY' },
  '--outbound-port': { key: 'outboundPort', kind: 'port' },
  '--inbound-port': { key: 'inboundPort', kind: 'port' },
  '--admin-address': { key: 'adminAddress', kind: 'string' },
  '--admin-port': { key: 'adminPort', kind: 'port' },
  '--readiness-port': { key: 'readinessPort', kind: 'port' },
  '--prometheus-port': { key: 'prometheusPort', kind: 'port' },
  '--status-port': { key: 'statusPort', kind: 'port', env: 'STATUS_PORT' },
  '--accept-mode': { key: 'acceptMode', kind: 'enum', values: ['handoff', 'reuseport'], env: 'LEGATE_ACCEPT_MODE' },
  '--tproxy': { key: 'transparent', kind: 'bool', env: 'LEGATE_TPROXY' },
  '--inbound-target': { key: 'inboundTarget', kind: 'string', env: 'LEGATE_INBOUND_TARGET' },
  '--backlog': { key: 'backlog', kind: 'int' },
  '--stats-capacity': { key: 'statsCapacity', kind: 'int' },
  '--dns-capture': { key: 'dnsCapture', kind: 'bool', env: 'ISTIO_META_DNS_CAPTURE' },
  '--dns-auto-allocate': { key: 'dnsAutoAllocate', kind: 'bool', env: 'ISTIO_META_DNS_AUTO_ALLOCATE' },
  '--dns-address': { key: 'dnsAddress', kind: 'string' },
  '--dns-port': { key: 'dnsPort', kind: 'port' },
  '--dns-upstream': { key: 'dnsUpstream', kind: 'list', env: 'LEGATE_DNS_UPSTREAM' },
  '--pod-namespace': { key: 'podNamespace', kind: 'string', env: 'POD_NAMESPACE' },
  '--proxy-labels': { key: 'proxyLabels', kind: 'labels', env: 'LEGATE_PROXY_LABELS' },
  '--locality': { key: 'locality', kind: 'string', env: 'LEGATE_LOCALITY' },
  '--pod-name': { key: 'podName', kind: 'string', env: 'POD_NAME' },
  '--workload-name': { key: 'workloadName', kind: 'string', env: 'ISTIO_META_WORKLOAD_NAME' },
  '--cluster-id': { key: 'clusterId', kind: 'string', env: 'ISTIO_META_CLUSTER_ID' },
  '--mesh-id': { key: 'meshId', kind: 'string', env: 'ISTIO_META_MESH_ID' },
  '--disable-istio-stats': { key: 'disableIstioStats', kind: 'bool', env: 'LEGATE_DISABLE_ISTIO_STATS' },
  '--istio-stats-series': { key: 'istioStatsSeries', kind: 'int' },
  '--xds': { key: 'xds', kind: 'string', env: 'LEGATE_XDS' },
  '--xds-delta': { key: 'xdsDelta', kind: 'bool', env: 'ISTIO_DELTA_XDS' },
  '--stream-idle-timeout': { key: 'streamIdleTimeoutMs', kind: 'duration', env: 'LEGATE_STREAM_IDLE_TIMEOUT' },
  '--request-headers-timeout': { key: 'requestHeadersTimeoutMs', kind: 'duration', env: 'LEGATE_REQUEST_HEADERS_TIMEOUT' },
  '--max-connections': { key: 'maxConnections', kind: 'count', env: 'LEGATE_MAX_CONNECTIONS' },
  '--cert-dir': { key: 'certDir', kind: 'string', env: 'LEGATE_CERT_DIR' },
  '--credential-dir': { key: 'credentialDir', kind: 'string', env: 'LEGATE_CREDENTIAL_DIR' },
  '--worker-semi-space-mb': { key: 'workerSemiSpaceMb', kind: 'count', env: 'LEGATE_WORKER_SEMI_SPACE_MB' },
  '--busy-poll': { key: 'busyPoll', kind: 'bool', env: 'LEGATE_BUSY_POLL' },
};

function convert(flag: string, spec: FlagSpec, raw: string): unknown {
  switch (spec.kind) {
    case 'int':
    case 'port': {
      const n = Number(raw);
      const max = spec.kind === 'port' ? 65535 : Number.MAX_SAFE_INTEGER;
      if (!/^\d+$/.test(raw) || n > max || (spec.kind === 'port' ? n < 0 : n < 1))
        throw new LegateError('EOPTION', `${flag}: expected ${spec.kind === 'port' ? 'a port 0–65535' : 'a positive integer'}, got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'duration':
      try {
        return parseDuration(raw);
      } catch {
        throw new LegateError('EOPTION', `${flag}: expected a duration like "5s" or "250ms" ("0s": disabled), got ${JSON.stringify(raw)}`);
      }
    case 'count':
      if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new LegateError('EOPTION', `${flag}: expected a whole number (0: no limit), got ${JSON.stringify(raw)}`);
      return Number(raw);
    case 'bool':
      if (raw === 'true' || raw === '1' || raw === '') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new LegateError('EOPTION', `${flag}: expected true or false, got ${JSON.stringify(raw)}`);
    case 'labels': {
      const out: Record<string, string> = {};
      for (const kv of raw.split(',').filter((s) => s.trim() !== '')) {
        const i = kv.indexOf('=');
        if (i <= 0) throw new LegateError('EOPTION', `${flag}: expected k=v[,k2=v2…], got ${JSON.stringify(raw)}`);
        out[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
      }
      return out;
    }
    case 'enum':
      if (!spec.values!.includes(raw)) throw new LegateError('EOPTION', `${flag}: expected one of ${spec.values!.join(', ')}, got ${JSON.stringify(raw)}`);
      return raw;
    default:
      return raw;
  }
}

/** Parses flags over environment over defaults; unknown flags and bad values are errors. */
export function parseProxyOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ProxyOptions {
  const opts: ProxyOptions = { ...PROXY_DEFAULTS, config: [], dnsUpstream: [], concurrency: Math.max(1, availableParallelism()) };
  const fromFlags = new Set<keyof ProxyOptions>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const spec = FLAGS[name];
    if (!spec) throw new LegateError('EOPTION', `unknown option ${name} (known: ${Object.keys(FLAGS).join(' ')})`);
    let raw: string;
    if (eq > 0) raw = arg.slice(eq + 1);
    else if (spec.kind === 'bool') raw = 'true';
    else if (i + 1 < argv.length) raw = argv[++i];
    else throw new LegateError('EOPTION', `${name} needs a value`);
    const value = convert(name, spec, raw);
    if (spec.kind === 'list') (opts[spec.key] as string[]).push(raw);
    else (opts as unknown as Record<string, unknown>)[spec.key] = value;
    fromFlags.add(spec.key);
  }
  for (const [flag, spec] of Object.entries(FLAGS)) {
    if (!spec.env || fromFlags.has(spec.key) || env[spec.env] === undefined || env[spec.env] === '') continue;
    const raw = env[spec.env]!;
    if (spec.kind === 'list') (opts as unknown as Record<string, unknown>)[spec.key] = raw.split(',').filter(Boolean);
    else (opts as unknown as Record<string, unknown>)[spec.key] = convert(`${flag} (from ${spec.env})`, spec, raw);
  }
  if (opts.inboundTarget === 'localhost') opts.inboundTarget = '127.0.0.1';
  const labelled = opts.proxyLabels?.['topology.istio.io/locality'];
  if (opts.locality === undefined && labelled) opts.locality = labelled.replaceAll('.', '/');
  return opts;
}
