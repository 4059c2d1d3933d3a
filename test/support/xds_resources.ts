/** Small Envoy JSON resources, shaped like istiod's, for xDS tests. */
type Json = any;

export const edsCluster = (name: string): Json => ({
  name,
  type: 'EDS',
  eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: name },
  connect_timeout: '1s',
  lb_policy: 'ROUND_ROBIN',
});

export const assignment = (cluster: string, ports: number[], address = '127.0.0.1'): Json => ({
  cluster_name: cluster,
  endpoints: [{ locality: { region: 'r1' }, lb_endpoints: ports.map((p) => ({ endpoint: { address: { socket_address: { address, port_value: p } } }, load_balancing_weight: 1 })) }],
});

export const httpListener = (port: number, routeName = String(port)): Json => ({
  name: `0.0.0.0_${port}`,
  address: { socket_address: { address: '0.0.0.0', port_value: port } },
  traffic_direction: 'OUTBOUND',
  bind_to_port: false,
  filter_chains: [
    {
      filter_chain_match: { transport_protocol: 'raw_buffer', application_protocols: ['http/1.1', 'h2c'] },
      filters: [
        { name: 'istio.stats', typed_config: { '@type': 'type.googleapis.com/stats.PluginConfig' } },
        {
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
            stat_prefix: `outbound_0.0.0.0_${port}`,
            rds: { config_source: { ads: {}, resource_api_version: 'V3' }, route_config_name: routeName },
            http_filters: [
              { name: 'istio.metadata_exchange', typed_config: { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'type.googleapis.com/io.istio.http.peer_metadata.Config' } },
              { name: 'envoy.filters.http.fault', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault' } },
              { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
            ],
            stream_idle_timeout: '0s',
            normalize_path: true,
          },
        },
      ],
    },
  ],
});

export const routeConfig = (name: string, cluster: string, extra: Json = {}): Json => ({
  name,
  virtual_hosts: [{ name: `web:${name}`, domains: ['*'], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster, timeout: '0s', ...extra } }] }],
  validate_clusters: false,
});
