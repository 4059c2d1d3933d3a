import { TLS_MODE_LABEL } from './upstream_tls.js';
import type { LbEndpoint } from '../../config/model.js';
import type { ConversionReport } from './report.js';
import { num, structToPlain, type Json } from './values.js';

/** Envoy excludes these from load balancing. */
const NOT_SERVING = new Set(['UNHEALTHY', 'DRAINING', 'TIMEOUT']);

/** The hosts of a ClusterLoadAssignment (EDS, or a cluster's inline load_assignment). */
export function convertLoadAssignment(cla: Json, report: ConversionReport, resource = `ClusterLoadAssignment ${cla?.cluster_name}`): LbEndpoint[] {
  const out: LbEndpoint[] = [];
  for (const group of cla?.endpoints ?? []) {
    if ((num(group.priority) ?? 0) > 0) report.note('eds.priority', `${resource}: endpoint priorities (locality failover) are not implemented; all priorities share the traffic`);
    const l = group.locality;
    const locality = l ? [l.region ?? '', l.zone ?? '', l.sub_zone ?? ''].join('/').replace(/\/+$/, '') || undefined : undefined;
    for (const e of group.lb_endpoints ?? []) {
      if (NOT_SERVING.has(e.health_status)) continue;
      const sa = e.endpoint?.address?.socket_address;
      if (!sa) {
        report.note('eds.address', `${resource}: endpoints without a socket address (pipes, internal addresses) are skipped`);
        continue;
      }
      const port = num(sa.port_value);
      if (port === undefined || port < 0 || port > 65535) report.fail(resource, `endpoint ${sa.address} has no valid port_value`);
      const ep: LbEndpoint = { address: sa.address, port, weight: num(e.load_balancing_weight) ?? 1 };
      if (locality) ep.locality = locality;
      const labels = structToPlain(e.metadata?.filter_metadata?.istio)?.labels;
      if (labels && typeof labels === 'object') ep.labels = labels as Record<string, string>;
      // istiod marks meshed endpoints for the cluster's transport_socket_matches (auto mTLS).
      const tlsMode = structToPlain(e.metadata?.filter_metadata?.['envoy.transport_socket_match'])?.tlsMode;
      if (typeof tlsMode === 'string') ep.labels = { ...ep.labels, [TLS_MODE_LABEL]: tlsMode };
      out.push(ep);
    }
  }
  return out;
}
