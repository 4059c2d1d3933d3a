import type { LbEndpoint } from '../../config/model.js';
import { TLS_MODE_LABEL } from '../convert/upstream_tls.js';
import type { Json } from './values.js';

/**
 * The model's hosts → an Envoy ClusterLoadAssignment. Consecutive hosts of one locality share a
 * LocalityLbEndpoints group, so the order of the hosts survives the trip (convert/endpoint.ts).
 */
export function encodeLoadAssignment(clusterName: string, endpoints: readonly LbEndpoint[]): Json {
  const groups: Json[] = [];
  let current: Json | undefined;
  let currentLocality: string | undefined;
  for (const ep of endpoints) {
    if (!current || ep.locality !== currentLocality) {
      // Always present, empty when unknown (as istiod sends it): gRPC rejects a group without one.
      const [region = '', zone = '', subZone = ''] = (ep.locality ?? '').split('/');
      current = { locality: { region, zone, sub_zone: subZone }, lb_endpoints: [], load_balancing_weight: 0 };
      currentLocality = ep.locality;
      groups.push(current);
    }
    const lb: Json = { endpoint: { address: { socket_address: { address: ep.address, port_value: ep.port } } }, load_balancing_weight: ep.weight };
    if (ep.labels) {
      lb.metadata = { filter_metadata: { istio: { labels: ep.labels } } };
      // What istiod marks meshed endpoints with for a cluster's transport_socket_matches (auto mTLS).
      const tlsMode = ep.labels[TLS_MODE_LABEL];
      if (tlsMode) lb.metadata.filter_metadata['envoy.transport_socket_match'] = { tlsMode };
    }
    current.lb_endpoints.push(lb);
    // The group's weight is its hosts' sum, as istiod sets it: gRPC drops localities without one.
    current.load_balancing_weight += ep.weight;
  }
  return { cluster_name: clusterName, endpoints: groups };
}
