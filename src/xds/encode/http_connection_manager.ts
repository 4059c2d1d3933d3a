import type { HttpConnectionManagerFilter, HttpFilterName } from '../../config/model.js';
import { ADS_SOURCE, duration, type Json } from './values.js';
import { encodeHttpAuthorization } from '../authorization.js';

const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

const HTTP_FILTER_TYPES: Record<HttpFilterName, string> = {
  'envoy.filters.http.fault': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
  'envoy.filters.http.cors': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors',
  'envoy.filters.http.router': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
};

/**
 * The model's connection manager → Envoy's HttpConnectionManager (typed_config form), routes
 * over RDS on the same ADS stream, or inline when `inlineRoute` is given (gRPC's API listeners
 * may take either). The inverse of convert/http_connection_manager.ts.
 */
export function encodeHttpConnectionManager(h: HttpConnectionManagerFilter, inlineRoute?: Json): Json {
  const out: Json = {
    '@type': HCM_TYPE,
    stat_prefix: h.statPrefix,
    // Authorization runs first, as Istio puts jwt_authn and RBAC before the other filters.
    http_filters: [...(h.authorization ? [encodeHttpAuthorization(h.authorization)] : []), ...h.httpFilters.map((name) => ({ name, typed_config: { '@type': HTTP_FILTER_TYPES[name] } }))],
    strip_any_host_port: h.stripAnyHostPort,
    stream_idle_timeout: duration(h.streamIdleTimeoutMs),
    use_remote_address: h.useRemoteAddress,
    normalize_path: h.normalizePath,
    server_name: h.serverName,
    server_header_transformation: h.serverHeaderTransformation,
  };
  if (h.xffNumTrustedHops !== undefined) out.xff_num_trusted_hops = h.xffNumTrustedHops;
  if (h.forwardClientCertDetails) out.forward_client_cert_details = h.forwardClientCertDetails;
  if (h.setCurrentClientCertDetails) out.set_current_client_cert_details = h.setCurrentClientCertDetails;
  if (h.upgradeTypes.length > 0) out.upgrade_configs = h.upgradeTypes.map((upgrade_type) => ({ upgrade_type }));
  if (inlineRoute) out.route_config = inlineRoute;
  else out.rds = { config_source: ADS_SOURCE, route_config_name: h.routeConfigName };
  return out;
}
