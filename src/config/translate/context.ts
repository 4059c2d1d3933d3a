import type { Diagnostic } from '../diagnostics.js';
import type { Resource } from '../resources.js';

/** What translation needs from the process: ports and inbound target (Istio's defaults). */
export interface TranslateOptions {
  outboundPort: number;
  inboundPort: number;
  /** Where inbound connections go: Istio's `localhost` (127.0.0.1) or the pod IP. */
  inboundTargetAddress: string;
  /** Source address of inbound upstream connections, let through by the iptables rules. */
  inboundSourceAddress: string;
  /** ISTIO_META_DNS_CAPTURE / _AUTO_ALLOCATE from flags or environment; undefined: the mesh's proxyMetadata decides. */
  dnsCapture?: boolean;
  dnsAutoAllocate?: boolean;
}

export const DEFAULT_TRANSLATE_OPTIONS: TranslateOptions = {
  outboundPort: 15001,
  inboundPort: 15006,
  inboundTargetAddress: '127.0.0.1',
  inboundSourceAddress: '127.0.0.6',
};

/** Reports problems against the resource and field they come from. */
export class Reporter {
  readonly diagnostics: Diagnostic[] = [];

  at(res: Resource, path: (string | number)[], message: string, severity: Diagnostic['severity'] = 'error'): void {
    this.diagnostics.push({
      severity,
      file: res.file,
      line: res.lineOf(path),
      resource: `${res.kind}/${res.namespace}/${res.name}`,
      path: path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join(''),
      message,
    });
  }
}
