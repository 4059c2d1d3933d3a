import type { RbacPolicy, RbacRules } from '../../../config/model.js';

/**
 * Istio's AuthorizationPolicy on TCP traffic: HTTP-only fields (requestPrincipals, hosts,
 * methods, paths, `request.*` conditions) cannot be evaluated. In an ALLOW policy the rule
 * that uses them is dropped (it allows nothing — fail closed); in DENY (and AUDIT) they are
 * ignored and the rest of the rule applies (it denies more — fail closed too).
 */
const HTTP_ONLY_SOURCE = ['requestPrincipals'] as const;
const HTTP_ONLY_OPERATION = ['hosts', 'methods', 'paths'] as const;
const httpOnlyKey = (key: string) => key.startsWith('request.');

function usesHttp(p: RbacPolicy): boolean {
  return (
    p.from.some((s) => HTTP_ONLY_SOURCE.some((f) => s[f])) ||
    p.to.some((o) => HTTP_ONLY_OPERATION.some((f) => o[f])) ||
    p.when.some((c) => httpOnlyKey(c.key))
  );
}

function withoutHttp(p: RbacPolicy): RbacPolicy {
  return {
    name: p.name,
    from: p.from.map(({ requestPrincipals: _rp, ...rest }) => rest),
    to: p.to.map(({ hosts: _h, methods: _m, paths: _p, ...rest }) => rest),
    when: p.when.filter((c) => !httpOnlyKey(c.key)),
  };
}

export function rbacForTcp(rules: readonly RbacRules[]): RbacRules[] {
  return rules.map((r) =>
    r.action === 'ALLOW'
      ? { action: r.action, policies: r.policies.filter((p) => !usesHttp(p)) }
      : { action: r.action, policies: r.policies.map((p) => (usesHttp(p) ? withoutHttp(p) : p)) },
  );
}
