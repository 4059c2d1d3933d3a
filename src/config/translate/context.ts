import type { Diagnostic } from '../diagnostics.js';
import type { ProxyRole } from '../model.js';
import type { Resource } from '../resources.js';
import type { Path } from '../validate/fields.js';

/** What translation needs from the process: the proxy's identity, ports and inbound target. */
export interface TranslateOptions {
  /** `sidecar` (outbound/inbound capture) or `router` (listeners from Gateway servers). */
  role?: ProxyRole;
  /** The proxy's namespace (Istio's POD_NAMESPACE): short names, exportTo and Sidecar scoping use it. */
  namespace?: string;
  /** The proxy's labels: Gateway selectors, Sidecar workloadSelector, sourceLabels matches. */
  labels?: Record<string, string>;
  outboundPort: number;
  inboundPort: number;
  /** Where inbound connections go: Istio's `localhost` (127.0.0.1) or the pod IP. */
  inboundTargetAddress: string;
  /** Source address of inbound upstream connections, let through by the iptables rules. */
  inboundSourceAddress: string;
  /**
   * The proxy's own loopback-only ports (admin 15000, DNS proxy 15053). Inbound capture
   * redirects `<pod IP>:15000` to 15006 like any port; forwarded to the loopback inbound target
   * it would reach the admin from outside the pod. Istio forwards to the pod IP, where nothing
   * listens on them; here the inbound listener closes such connections instead.
   */
  loopbackPorts?: number[];
  /** HCM timeouts for the sidecar's HTTP listeners (flags `--stream-idle-timeout`, `--request-headers-timeout`); Istio's (disabled) when absent. */
  hcmTimeouts?: { streamIdleTimeoutMs: number; requestHeadersTimeoutMs: number };
  /** ISTIO_META_DNS_CAPTURE / _AUTO_ALLOCATE from flags or environment; undefined: the mesh's proxyMetadata decides. */
  dnsCapture?: boolean;
  dnsAutoAllocate?: boolean;
}

export const DEFAULT_TRANSLATE_OPTIONS: TranslateOptions = {
  role: 'sidecar',
  namespace: 'default',
  outboundPort: 15001,
  inboundPort: 15006,
  inboundTargetAddress: '127.0.0.1',
  inboundSourceAddress: '127.0.0.6',
};

/** Istio's cluster domain suffix for Kubernetes service names. */
export const DOMAIN_SUFFIX = 'cluster.local';

function formatPath(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export function resourceId(res: Resource): string {
  return `${res.kind}/${res.namespace}/${res.name}`;
}

/** Reports problems against the resource and field they come from. */
export class Reporter {
  readonly diagnostics: Diagnostic[] = [];

  at(res: Resource, path: Path, message: string, severity: Diagnostic['severity'] = 'error'): void {
    this.diagnostics.push({ severity, file: res.file, line: res.lineOf(path), resource: resourceId(res), path: formatPath(path), message });
  }

  /** Like `at`, with a line known some other way (e.g. inside the mesh YAML string). */
  atLine(res: Resource, line: number, path: string, message: string, severity: Diagnostic['severity'] = 'error'): void {
    this.diagnostics.push({ severity, file: res.file, line, resource: resourceId(res), path, message });
  }

  /** A reporter bound to one resource that remembers whether it saw an error. */
  for(res: Resource): ResourceReport {
    return new ResourceReport(this, res);
  }
}

export class ResourceReport {
  errors = 0;
  /** What was reported, so that a memoized read can report it again. */
  readonly recorded: { path: Path; message: string; severity: Diagnostic['severity'] }[] = [];
  constructor(
    private readonly reporter: Reporter,
    readonly res: Resource,
  ) {}
  error(path: Path, message: string): void {
    this.errors++;
    this.recorded.push({ path, message, severity: 'error' });
    this.reporter.at(this.res, path, message, 'error');
  }
  warn(path: Path, message: string): void {
    this.recorded.push({ path, message, severity: 'warning' });
    this.reporter.at(this.res, path, message, 'warning');
  }
  /** Reports `message` if it is defined; returns whether it was. */
  check(path: Path, message: string | undefined): boolean {
    if (message === undefined) return false;
    this.error(path, message);
    return true;
  }
}
