/**
 * Istio's DNS switches. Each is on when the proxy's flag or environment says so; when those
 * are silent, the mesh's `defaultConfig.proxyMetadata` decides (as Istio injects it into the
 * proxy's environment).
 */
export interface DnsFlagInputs {
  /** From `--dns-capture` / ISTIO_META_DNS_CAPTURE in the environment; undefined: not said. */
  dnsCapture?: boolean;
  /** From `--dns-auto-allocate` / ISTIO_META_DNS_AUTO_ALLOCATE; undefined: not said. */
  dnsAutoAllocate?: boolean;
}

export interface DnsFlags {
  capture: boolean;
  /** Effective only with capture, as in Istio: without the DNS proxy nobody would learn the VIPs. */
  autoAllocate: boolean;
}

export const metaBool = (v: string | undefined): boolean => v !== undefined && /^(true|1)$/i.test(v.trim());

export function dnsFlags(proxyMetadata: Record<string, string>, inputs: DnsFlagInputs): DnsFlags {
  const capture = inputs.dnsCapture ?? metaBool(proxyMetadata.ISTIO_META_DNS_CAPTURE);
  const autoAllocate = inputs.dnsAutoAllocate ?? metaBool(proxyMetadata.ISTIO_META_DNS_AUTO_ALLOCATE);
  return { capture, autoAllocate: capture && autoAllocate };
}
