import { compileRe2 } from '../../../config/re2.js';
import { getHeaderAll } from '../../network/http_connection_manager/codec/headers.js';
import type { AuthzInput } from './attributes.js';
import { ipMatcher } from './matchers.js';

/**
 * Envoy's RBAC permission / principal trees (`envoy.config.rbac.v3`), as istiod sends them over
 * xDS, compiled to closures over the same attributes as Istio-shaped rules. Only the matchers
 * istiod generates are understood; `unsupported` names any other so that the configuration is
 * rejected (an unknown matcher must neither allow nor deny by accident).
 */
type Test = (i: AuthzInput) => boolean;
type Json = any;

const isTrue = (v: Json) => v === true || v?.value === true;

export function unsupportedRbacMatcher(node: Json, kind: 'permission' | 'principal'): string | undefined {
  if (!node || typeof node !== 'object') return `empty ${kind}`;
  const known = kind === 'permission' ? PERMISSION_KEYS : PRINCIPAL_KEYS;
  for (const [k, v] of Object.entries(node) as [string, Json][]) {
    if (v === undefined || v === null || k === 'rule' || k === 'identifier') continue;
    if (!known.has(k)) return `${kind} matcher ${k}`;
    if (k === 'and_rules' || k === 'or_rules') for (const r of v.rules ?? []) { const u = unsupportedRbacMatcher(r, kind); if (u) return u; }
    if (k === 'and_ids' || k === 'or_ids') for (const r of v.ids ?? []) { const u = unsupportedRbacMatcher(r, kind); if (u) return u; }
    if (k === 'not_rule' || k === 'not_id') { const u = unsupportedRbacMatcher(v, kind); if (u) return u; }
    if (k === 'filter_state' && v.key !== PEER_PRINCIPAL) return `filter_state matcher ${JSON.stringify(v.key)}`;
    if (k === 'metadata' && !metadataKey(v)) return `metadata matcher ${JSON.stringify(v.filter)}/${(v.path ?? []).map((p: Json) => p.key).join('.')}`;
  }
  return undefined;
}

const PERMISSION_KEYS = new Set(['and_rules', 'or_rules', 'any', 'header', 'url_path', 'destination_ip', 'destination_port', 'destination_port_range', 'metadata', 'not_rule', 'requested_server_name']);
const PRINCIPAL_KEYS = new Set(['and_ids', 'or_ids', 'any', 'authenticated', 'source_ip', 'direct_remote_ip', 'remote_ip', 'header', 'url_path', 'metadata', 'not_id', 'filter_state']);
/** Where istiod's rules read the peer's SPIFFE identity (mTLS or HBONE). */
const PEER_PRINCIPAL = 'io.istio.peer_principal';

/** Envoy's StringMatcher (exact, prefix, suffix, contains, safe_regex; ignore_case). */
export function stringMatcher(m: Json): (v: string | undefined) => boolean {
  const ic = isTrue(m?.ignore_case);
  const norm = (s: string) => (ic ? s.toLowerCase() : s);
  if (m?.exact !== undefined) { const x = norm(m.exact); return (v) => v !== undefined && norm(v) === x; }
  if (m?.prefix !== undefined) { const x = norm(m.prefix); return (v) => v !== undefined && norm(v).startsWith(x); }
  if (m?.suffix !== undefined) { const x = norm(m.suffix); return (v) => v !== undefined && norm(v).endsWith(x); }
  if (m?.contains !== undefined) { const x = norm(m.contains); return (v) => v !== undefined && norm(v).includes(x); }
  if (m?.safe_regex?.regex !== undefined) { const re = compileRe2(m.safe_regex.regex, { anchored: true, ignoreCase: ic }); return (v) => v !== undefined && re.test(v); }
  return () => false;
}

function cidr(c: Json): (v: string | undefined) => boolean {
  const len = typeof c.prefix_len === 'object' ? c.prefix_len?.value : c.prefix_len;
  return ipMatcher([len === undefined ? c.address_prefix : `${c.address_prefix}/${len}`]);
}

/** Pseudo-headers read from the request line, others from the header list (several values joined by ","). */
function headerValue(i: AuthzInput, name: string): string | undefined {
  if (name === ':method') return i.method;
  if (name === ':authority' || name === 'host') return i.host;
  if (name === ':path') return i.path;
  if (!i.headers) return undefined;
  const vs = getHeaderAll(i.headers, name);
  return vs.length === 0 ? undefined : vs.join(',');
}

function header(h: Json): Test {
  const name = String(h.name).toLowerCase();
  let m: (v: string | undefined) => boolean;
  if (h.string_match) m = stringMatcher(h.string_match);
  else if (h.exact_match !== undefined) m = stringMatcher({ exact: h.exact_match });
  else if (h.prefix_match !== undefined) m = stringMatcher({ prefix: h.prefix_match });
  else if (h.suffix_match !== undefined) m = stringMatcher({ suffix: h.suffix_match });
  else if (h.contains_match !== undefined) m = stringMatcher({ contains: h.contains_match });
  else if (h.safe_regex_match) m = stringMatcher({ safe_regex: h.safe_regex_match });
  else m = (v) => v !== undefined; // present_match
  const invert = isTrue(h.invert_match);
  return (i) => m(headerValue(i, name)) !== invert;
}

/** The istio_authn metadata Istio's rules read, from the verified JWT (and the peer identity). */
function metadataKey(m: Json): string | undefined {
  const key = m?.path?.[0]?.key;
  if (m?.filter !== 'istio_authn' || typeof key !== 'string') return undefined;
  return ['request.auth.principal', 'request.auth.audiences', 'request.auth.presenter', 'request.auth.claims', 'source.principal', 'source.namespace', 'source.user'].includes(key) ? key : undefined;
}

function metadataValues(i: AuthzInput, key: string, rest: string[]): string[] | undefined {
  const id = i.identity;
  switch (key) {
    case 'request.auth.principal': return id ? [id.principal] : undefined;
    case 'request.auth.audiences': return id?.audiences;
    case 'request.auth.presenter': return id?.presenter !== undefined ? [id.presenter] : undefined;
    case 'request.auth.claims': {
      let v: unknown = id?.claims;
      for (const k of rest) v = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
      return typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
    }
    default: {
      const p = i.peerPrincipal;
      if (!p) return undefined;
      if (key === 'source.namespace') return [/\/ns\/([^/]+)/.exec(p)?.[1] ?? ''];
      return [p.startsWith('spiffe://') ? p.slice(9) : p];
    }
  }
}

function metadata(m: Json): Test {
  const key = metadataKey(m)!;
  const rest = (m.path ?? []).slice(1).map((p: Json) => String(p.key));
  const v = m.value ?? {};
  const one = v.list_match?.one_of?.string_match ?? v.string_match;
  const str = one ? stringMatcher(one) : undefined;
  const invert = isTrue(m.invert);
  return (i) => {
    const vs = metadataValues(i, key, rest);
    const hit = vs !== undefined && (str ? vs.some((x) => str(x)) : isTrue(v.present_match) && vs.length > 0);
    return hit !== invert;
  };
}

const anyOf = (ts: Test[]): Test => (i) => ts.some((t) => t(i));
const allOf = (ts: Test[]): Test => (i) => ts.every((t) => t(i));

export function permission(p: Json): Test {
  if (isTrue(p.any)) return () => true;
  if (p.and_rules) return allOf((p.and_rules.rules ?? []).map(permission));
  if (p.or_rules) return anyOf((p.or_rules.rules ?? []).map(permission));
  if (p.not_rule) { const t = permission(p.not_rule); return (i) => !t(i); }
  if (p.header) return header(p.header);
  if (p.url_path) { const m = stringMatcher(p.url_path.path); return (i) => m(i.path); }
  if (p.destination_ip) { const m = cidr(p.destination_ip); return (i) => m(i.destinationIp); }
  if (p.destination_port !== undefined) { const port = Number(p.destination_port); return (i) => i.destinationPort === port; }
  if (p.destination_port_range) { const { start, end } = p.destination_port_range; return (i) => i.destinationPort >= start && i.destinationPort < end; }
  if (p.metadata) return metadata(p.metadata);
  if (p.requested_server_name) { const m = stringMatcher(p.requested_server_name); return (i) => m(i.sni); }
  return () => false;
}

export function principal(p: Json): Test {
  if (isTrue(p.any)) return () => true;
  if (p.and_ids) return allOf((p.and_ids.ids ?? []).map(principal));
  if (p.or_ids) return anyOf((p.or_ids.ids ?? []).map(principal));
  if (p.not_id) { const t = principal(p.not_id); return (i) => !t(i); }
  if (p.authenticated) {
    const pn = p.authenticated.principal_name;
    if (!pn) return (i) => i.peerPrincipal !== undefined;
    const m = stringMatcher(pn);
    return (i) => m(i.peerPrincipal);
  }
  if (p.filter_state) {
    const m = stringMatcher(p.filter_state.string_match);
    return (i) => m(i.peerPrincipal);
  }
  if (p.source_ip || p.direct_remote_ip) { const m = cidr(p.source_ip ?? p.direct_remote_ip); return (i) => m(i.sourceIp); }
  if (p.remote_ip) { const m = cidr(p.remote_ip); return (i) => m(i.remoteIp); }
  if (p.header) return header(p.header);
  if (p.url_path) { const m = stringMatcher(p.url_path.path); return (i) => m(i.path); }
  if (p.metadata) return metadata(p.metadata);
  return () => false;
}

/** An Envoy Policy: any permission and any principal. */
export function envoyPolicy(p: { permissions: Json[]; principals: Json[] }): Test {
  const perm = anyOf(p.permissions.map(permission));
  const prin = anyOf(p.principals.map(principal));
  return (i) => perm(i) && prin(i);
}
