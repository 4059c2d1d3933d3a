import type { Authorization, RbacRules } from '../config/model.js';
import { structToPlain, typeName, type Json } from './convert/values.js';

/**
 * AuthorizationPolicy / RequestAuthentication over xDS between `legate xds-server` and Legate
 * sidecars: the model's own (Istio-shaped) rules carried in an `xds.type.v3.TypedStruct`, as
 * Envoy carries configs of extensions it does not compile in. Lossless, but only Legate reads
 * it: Envoy's RBAC permission/principal trees (istiod's output) are not translated yet.
 */
const TYPED_STRUCT = 'type.googleapis.com/xds.type.v3.TypedStruct';
export const HTTP_AUTHZ_FILTER = 'legate.filters.http.authorization';
export const NETWORK_RBAC_FILTER = 'legate.filters.network.rbac';
const HTTP_AUTHZ_TYPE = 'type.googleapis.com/legate.authorization.v1.Authorization';
const NETWORK_RBAC_TYPE = 'type.googleapis.com/legate.authorization.v1.NetworkRbac';

export function encodeHttpAuthorization(a: Authorization): Json {
  return { name: HTTP_AUTHZ_FILTER, typed_config: { '@type': TYPED_STRUCT, type_url: HTTP_AUTHZ_TYPE, value: JSON.parse(JSON.stringify(a)) } };
}

export function encodeNetworkRbac(rules: RbacRules[]): Json {
  return { name: NETWORK_RBAC_FILTER, typed_config: { '@type': TYPED_STRUCT, type_url: NETWORK_RBAC_TYPE, value: { rules: JSON.parse(JSON.stringify(rules)) } } };
}

/** The TypedStruct's content when it is ours (by type URL), else undefined. */
function ours(f: Json, url: string): Record<string, any> | undefined {
  const t = f?.typed_config;
  if (typeName(t) !== 'xds.type.v3.TypedStruct' || t.type_url !== url) return undefined;
  return structToPlain(t.value);
}

export const decodeHttpAuthorization = (f: Json): Authorization | undefined => ours(f, HTTP_AUTHZ_TYPE) as Authorization | undefined;
export const decodeNetworkRbac = (f: Json): RbacRules[] | undefined => ours(f, NETWORK_RBAC_TYPE)?.rules as RbacRules[] | undefined;
