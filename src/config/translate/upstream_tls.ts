import type { Cluster } from '../model.js';
import type { MeshSettings } from '../model.js';
import type { Service, ServicePort, SubsetDef } from './types.js';

/** The endpoint label Istio's injector puts on meshed workloads (and auto mTLS looks for). */
export const TLS_MODE_LABEL = 'security.istio.io/tlsMode';

/** Istio's SNI for ISTIO_MUTUAL: the cluster name in the form AUTO_PASSTHROUGH gateways route by. */
export function istioMutualSni(port: number, host: string, subset = ''): string {
  return `outbound_.${port}_.${subset}_.${host}`;
}

/**
 * What istiod adds to an outbound cluster for mesh mTLS: with ISTIO_MUTUAL (set by a
 * DestinationRule, or auto mTLS when the rule sets no TLS and an endpoint is labelled
 * `tlsMode: istio`), Istio's SNI, and the server identities to expect when the rule names none
 * — the ServiceEntry's `subjectAltNames`, else the endpoints' service accounts.
 */
export function meshTls(c: Cluster, svc: Service, port: ServicePort, subset: SubsetDef | undefined, mesh: MeshSettings): void {
  if (!c.tls) {
    if (!mesh.enableAutoMtls || c.type === 'ORIGINAL_DST') return;
    if (!c.endpoints.some((e) => e.labels?.[TLS_MODE_LABEL] === 'istio')) return;
    c.tls = { mode: 'ISTIO_MUTUAL', autoMtls: true };
  }
  if (c.tls.mode !== 'ISTIO_MUTUAL') return;
  const tls = { ...c.tls };
  tls.sni ??= istioMutualSni(port.number, svc.hostname, subset?.name);
  if (!tls.subjectAltNames?.length) {
    const sans = expectedIdentities(svc, mesh);
    if (sans.length) tls.subjectAltNames = sans;
  }
  c.tls = tls;
}

function expectedIdentities(svc: Service, mesh: MeshSettings): string[] {
  const spec = svc.entry.resource.spec as { subjectAltNames?: unknown } | undefined;
  if (Array.isArray(spec?.subjectAltNames) && spec.subjectAltNames.length) return spec.subjectAltNames.map(String);
  const accounts = new Set<string>();
  for (const e of svc.endpoints) if (e.serviceAccount) accounts.add(`spiffe://${mesh.trustDomain}/ns/${svc.namespace}/sa/${e.serviceAccount}`);
  return [...accounts].sort();
}
