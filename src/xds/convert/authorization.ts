import type { JwtProvider, RbacRules } from '../../config/model.js';
import { unsupportedRbacMatcher } from '../../filters/http/rbac/envoy_rules.js';
import type { ConversionReport } from './report.js';
import { bool, type Json } from './values.js';

/**
 * istiod's authorization filters over xDS → the model: Envoy's RBAC (HTTP and network) with its
 * permission / principal trees kept as they are (evaluated by filters/http/rbac/envoy_rules.ts),
 * and jwt_authn providers (Istio's requirement: any provider, or no token at all).
 */
/**
 * One Envoy RBAC filter → the model's RBAC filters. istiod marks the requests a CUSTOM policy
 * sends to ext_authz with shadow rules (stat prefix `istio_ext_authz_`); ext_authz is not
 * implemented, so those requests are denied (as Legate does for CUSTOM from files): fail closed.
 */
export function convertRbac(t: Json, report: ConversionReport, at: string): RbacRules[] {
  if (t.matcher || t.shadow_matcher) report.fail(at, 'RBAC with a matcher tree is not supported (rules only)');
  const out: RbacRules[] = [];
  if (t.shadow_rules) {
    if (t.shadow_rules_stat_prefix === 'istio_ext_authz_') {
      report.note('rbac.ext_authz', `CUSTOM authorization (ext_authz) is not implemented: the requests it covers are denied (first seen on ${at})`);
      out.push({ action: 'DENY', policies: policies(t.shadow_rules, report, at) });
    } else report.note('rbac.shadow_rules', `RBAC shadow rules (Istio's dry-run) are not evaluated (first seen on ${at})`);
  }
  const rules = t.rules;
  if (!rules) return out;
  const action = rules.action ?? 'ALLOW';
  if (action !== 'ALLOW' && action !== 'DENY' && action !== 'LOG') report.fail(at, `RBAC action ${action} is not supported`);
  out.push({ action, policies: policies(rules, report, at) });
  return out;
}

function policies(rules: Json, report: ConversionReport, at: string): RbacRules['policies'] {
  return Object.entries((rules.policies ?? {}) as Record<string, Json>)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, p]) => {
      if (p.condition || p.checked_condition) report.fail(at, `RBAC policy ${name}: CEL conditions are not supported`);
      for (const x of p.permissions ?? []) { const u = unsupportedRbacMatcher(x, 'permission'); if (u) report.fail(at, `RBAC policy ${name}: ${u} is not supported`); }
      for (const x of p.principals ?? []) { const u = unsupportedRbacMatcher(x, 'principal'); if (u) report.fail(at, `RBAC policy ${name}: ${u} is not supported`); }
      return { name, from: [], to: [], when: [], envoy: { permissions: p.permissions ?? [], principals: p.principals ?? [] } };
    });
}

export function convertJwtAuthn(t: Json, report: ConversionReport, at: string): JwtProvider[] {
  const out: JwtProvider[] = [];
  for (const [name, p] of Object.entries((t.providers ?? {}) as Record<string, Json>)) {
    const fromHeaders = (p.from_headers ?? []).map((h: Json) => ({ name: String(h.name).toLowerCase(), prefix: h.value_prefix ?? '' }));
    const fromParams: string[] = p.from_params ?? [];
    const jwks = p.local_jwks?.inline_string;
    const jwksUri = p.remote_jwks?.http_uri?.uri;
    if (!jwks && !jwksUri) report.fail(at, `jwt_authn provider ${name}: only inline or remote JWKS are supported`);
    out.push({
      name,
      issuer: p.issuer ?? '',
      audiences: p.audiences ?? [],
      ...(jwks ? { jwks } : jwksUri ? { jwksUri } : {}),
      fromHeaders: fromHeaders.length || fromParams.length ? fromHeaders : [{ name: 'authorization', prefix: 'Bearer ' }],
      fromParams: fromHeaders.length || fromParams.length ? fromParams : ['access_token'],
      forwardOriginalToken: bool(p.forward) ?? false,
      ...(p.forward_payload_header ? { outputPayloadToHeader: p.forward_payload_header } : {}),
      outputClaimToHeaders: (p.claim_to_headers ?? []).map((c: Json) => ({ header: String(c.header_name).toLowerCase(), claim: c.claim_name })),
    });
  }
  report.note('jwt_authn.requirements', `jwt_authn requirements are read as Istio writes them: any provider, or no token (first seen on ${at})`);
  return out;
}
