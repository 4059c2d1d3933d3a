import { ENVOY_SERVER_NAME, FORWARD_CLIENT_CERT_DETAILS, HTTP_CONNECTION_MANAGER, SERVER_HEADER_TRANSFORMATIONS, type Authorization, type HttpConnectionManagerFilter, type HttpFilterName, type RouteConfiguration } from '../../config/model.js';
import type { ConversionReport } from './report.js';
import { decodeHttpAuthorization, HTTP_AUTHZ_FILTER } from '../authorization.js';
import { convertJwtAuthn, convertRbac } from './authorization.js';
import { convertRouteConfiguration } from './route.js';
import { bool, durationMs, typeName, type Json } from './values.js';
import { isFieldValue } from '../../filters/network/http_connection_manager/codec/chars.js';

const HTTP_FILTERS: Record<string, HttpFilterName> = {
  'envoy.extensions.filters.http.fault.v3.HTTPFault': 'envoy.filters.http.fault',
  'envoy.extensions.filters.http.cors.v3.Cors': 'envoy.filters.http.cors',
  'envoy.extensions.filters.http.router.v3.Router': 'envoy.filters.http.router',
};

/**
 * HTTP filters Istio adds that do telemetry, peer metadata, ALPN hints or authorization. The
 * proxy does not implement them; leaving them out does not change which route or cluster a
 * request gets. (Authorization filters are listed so that istiod's output is accepted; they are
 * not enforced, which the note says.)
 */
const IGNORED_HTTP_FILTERS: Record<string, string> = {
  'istio.metadata_exchange': 'peer metadata exchange',
  'istio.stats': 'Istio telemetry (see the proxy’s own istio_* metrics)',
  'istio.alpn': 'upstream ALPN override',
  'envoy.filters.http.grpc_stats': 'gRPC stats',
  istio_authn: 'request.auth.* come from jwt_authn',
  'envoy.filters.http.ext_authz': 'external authorization is not implemented: the requests istiod marks for it are denied',
  connect_authority: 'HBONE metadata',
  connect_baggage: 'HBONE metadata',
};

export interface ConvertedHcm {
  filter: HttpConnectionManagerFilter;
  inlineRoute?: RouteConfiguration;
  rdsName?: string;
}

export function convertHttpConnectionManager(h: Json, report: ConversionReport, at: string): ConvertedHcm {
  const statPrefix: string = h.stat_prefix ?? '';
  const httpFilters: HttpFilterName[] = [];
  let authorization: Authorization | undefined;
  for (const f of h.http_filters ?? []) {
    if (bool(f.disabled)) continue;
    if (f.name === HTTP_AUTHZ_FILTER && (authorization = decodeHttpAuthorization(f))) continue;
    const type = typeName(f.typed_config);
    if (type === 'envoy.extensions.filters.http.rbac.v3.RBAC') {
      const rules = convertRbac(f.typed_config, report, at);
      if (rules.length) (authorization ??= {}).rbac = [...(authorization.rbac ?? []), ...rules];
      continue;
    }
    if (type === 'envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication') {
      const providers = convertJwtAuthn(f.typed_config, report, at);
      if (providers.length) (authorization ??= {}).jwtProviders = [...(authorization.jwtProviders ?? []), ...providers];
      continue;
    }
    const known = HTTP_FILTERS[typeName(f.typed_config) ?? ''] ?? Object.values(HTTP_FILTERS).find((n) => n === f.name);
    if (known) httpFilters.push(known);
    else if (IGNORED_HTTP_FILTERS[f.name]) report.note(`http_filter.${f.name}`, `HTTP filter ${f.name} ignored: ${IGNORED_HTTP_FILTERS[f.name]} (first seen on ${at})`);
    // Envoy's own rule: an unknown filter rejects the config unless marked optional.
    else if (bool(f.is_optional)) report.note(`http_filter.${f.name}`, `optional HTTP filter ${f.name} (${typeName(f.typed_config)}) ignored (first seen on ${at})`);
    else report.fail(at, `HTTP filter ${f.name} (${typeName(f.typed_config)}) is not supported`);
  }
  if (httpFilters[httpFilters.length - 1] !== 'envoy.filters.http.router') report.fail(at, 'the last HTTP filter must be the router');
  const strip = h.strip_any_host_port !== undefined ? bool(h.strip_any_host_port) : h.strip_matching_host_port !== undefined ? bool(h.strip_matching_host_port) : false;
  const out: ConvertedHcm = {
    filter: {
      name: HTTP_CONNECTION_MANAGER,
      statPrefix,
      routeConfigName: '',
      httpFilters,
      stripAnyHostPort: strip ?? false,
      streamIdleTimeoutMs: durationMs(h.stream_idle_timeout) ?? 300_000,
      requestHeadersTimeoutMs: durationMs(h.request_headers_timeout) ?? 0,
      useRemoteAddress: bool(h.use_remote_address) ?? false,
      ...forwardingOf(h, report, at),
      normalizePath: bool(h.normalize_path) ?? false,
      upgradeTypes: (h.upgrade_configs ?? []).filter((u: Json) => bool(u.enabled) !== false).map((u: Json) => String(u.upgrade_type).toLowerCase()),
      ...(authorization ? { authorization } : {}),
      ...serverHeaderOf(h, report, at),
    },
  };
  if (h.rds) {
    if (h.rds.config_source && !('ads' in h.rds.config_source))
      report.note('hcm.rds_source', `${at}: RDS config sources other than ADS are fetched over ADS`);
    out.filter.routeConfigName = out.rdsName = h.rds.route_config_name;
    if (!out.rdsName) report.fail(at, 'rds without route_config_name');
  } else if (h.route_config) {
    out.inlineRoute = convertRouteConfiguration(h.route_config, report, h.route_config.name || `${statPrefix}:inline`);
    out.filter.routeConfigName = out.inlineRoute.name;
  } else report.fail(at, 'http_connection_manager needs rds or route_config (scoped routes are not supported)');
  return out;
}

/** server_name and server_header_transformation, with Envoy's defaults (`envoy`, OVERWRITE). */
function serverHeaderOf(h: Json, report: ConversionReport, at: string): Pick<HttpConnectionManagerFilter, 'serverName' | 'serverHeaderTransformation'> {
  const serverName = typeof h.server_name === 'string' && h.server_name !== '' ? h.server_name : ENVOY_SERVER_NAME;
  if (!isFieldValue(serverName)) report.fail(at, `server_name ${JSON.stringify(serverName)} cannot be a header value`);
  const t = h.server_header_transformation ?? 'OVERWRITE';
  if (!SERVER_HEADER_TRANSFORMATIONS.includes(t)) report.fail(at, `server_header_transformation ${JSON.stringify(t)} is not one of ${SERVER_HEADER_TRANSFORMATIONS.join(', ')}`);
  return { serverName, serverHeaderTransformation: SERVER_HEADER_TRANSFORMATIONS.includes(t) ? t : 'OVERWRITE' };
}

/** xff_num_trusted_hops, forward_client_cert_details and set_current_client_cert_details (istiod sets them on inbound and gateway HCMs). */
function forwardingOf(h: Json, report: ConversionReport, at: string): Partial<HttpConnectionManagerFilter> {
  const out: Partial<HttpConnectionManagerFilter> = {};
  if (h.xff_num_trusted_hops !== undefined) out.xffNumTrustedHops = Number(h.xff_num_trusted_hops);
  const fcc = h.forward_client_cert_details;
  if (fcc !== undefined) {
    if (FORWARD_CLIENT_CERT_DETAILS.includes(fcc)) out.forwardClientCertDetails = fcc;
    else report.fail(at, `forward_client_cert_details ${JSON.stringify(fcc)} is not one of ${FORWARD_CLIENT_CERT_DETAILS.join(', ')}`);
  }
  const set = h.set_current_client_cert_details;
  if (set) out.setCurrentClientCertDetails = { subject: bool(set.subject) ?? false, uri: bool(set.uri) ?? false, dns: bool(set.dns) ?? false, cert: bool(set.cert) ?? false };
  return out;
}
