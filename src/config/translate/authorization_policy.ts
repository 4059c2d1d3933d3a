import type { RbacCondition, RbacOperation, RbacPolicy, RbacRules, RbacSource, ValueMatch } from '../model.js';
import { addressOrCidrError, isPlainObject } from '../validate/values.js';
import type { ResourceReport } from './context.js';
import { labelsMatch } from './hosts.js';
import type { Resource } from '../resources.js';

/** A validated AuthorizationPolicy. CUSTOM is kept to be turned into DENY (see buildRbac). */
export interface AuthorizationPolicyDef {
  resource: Resource;
  selector?: Record<string, string>;
  /** targetRef(s) set: the policy is for Gateway API gateways / waypoints, never for this proxy. */
  targeted: boolean;
  action: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';
  /** Absent: no `rules` field (matches nothing); `[{}]` matches everything. */
  rules: Omit<RbacPolicy, 'name'>[];
}

const SOURCE_FIELDS = ['principals', 'requestPrincipals', 'namespaces', 'ipBlocks', 'remoteIpBlocks'] as const;
const OPERATION_FIELDS = ['hosts', 'ports', 'methods', 'paths'] as const;
const notOf = (f: string) => `not${f[0].toUpperCase()}${f.slice(1)}`;

/** Istio's condition keys (https://istio.io/latest/docs/reference/config/security/conditions/). */
const PLAIN_KEYS = new Set(['source.ip', 'remote.ip', 'source.namespace', 'source.principal', 'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter', 'destination.ip', 'destination.port', 'connection.sni']);
const MAP_KEY = /^(request\.headers|request\.auth\.claims)(\[[^\][]+\])+$/;
const IP_KEYS = new Set(['source.ip', 'remote.ip', 'destination.ip']);

export function conditionKeyError(key: string): string | undefined {
  if (PLAIN_KEYS.has(key)) return undefined;
  const m = MAP_KEY.exec(key);
  if (m && (m[1] === 'request.auth.claims' || /^request\.headers\[[^\][]+\]$/.test(key))) return undefined;
  return `unknown condition key ${JSON.stringify(key)}`;
}

/** Istio's `*` forms: exact, `prefix*`, `*suffix` or `*` alone; never inside. */
function valueError(v: string, field: string): string | undefined {
  if (v === '') return `${field}: empty value`;
  if (v.length > 1 && v.slice(1, -1).includes('*')) return `${field}: "*" is allowed only at the start or the end of ${JSON.stringify(v)}`;
  if (field.toLowerCase().endsWith('paths') && /\{\*\*?\}/.test(v)) return `${field}: path templates ({*}, {**}) are not implemented`;
  return undefined;
}

function readValues(r: ResourceReport, at: (string | number)[], field: string, raw: unknown, check?: (v: string) => string | undefined): string[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  const out: string[] = [];
  raw.forEach((v, i) => {
    if (typeof v !== 'string') return;
    if (r.check([...at, i], valueError(v, field) ?? check?.(v))) return;
    out.push(v);
  });
  return out;
}

const portError = (v: string) => (/^\d+$/.test(v) && Number(v) <= 65535 ? undefined : `invalid port ${JSON.stringify(v)}`);

function readMatch(r: ResourceReport, at: (string | number)[], obj: any, field: string, check?: (v: string) => string | undefined): ValueMatch | undefined {
  const values = readValues(r, [...at, field], field, obj[field], check);
  const notValues = readValues(r, [...at, notOf(field)], notOf(field), obj[notOf(field)], check);
  if (!values && !notValues) return undefined;
  return { ...(values ? { values } : {}), ...(notValues ? { notValues } : {}) };
}

export function readAuthorizationPolicy(r: ResourceReport): AuthorizationPolicyDef | undefined {
  const spec = r.res.spec ?? {};
  if (!isPlainObject(spec)) return void r.error(['spec'], 'spec must be a mapping');
  const action = spec.action ?? 'ALLOW';
  if (!['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'].includes(action)) r.error(['spec', 'action'], `invalid action ${JSON.stringify(action)} (ALLOW, DENY, AUDIT or CUSTOM)`);
  if (action === 'CUSTOM' && !spec.provider?.name) r.error(['spec', 'provider'], 'a CUSTOM policy needs provider.name');
  if (action !== 'CUSTOM' && spec.provider !== undefined) r.error(['spec', 'provider'], 'provider is only allowed with action CUSTOM');
  if (action === 'CUSTOM')
    r.warn(['spec', 'action'], `CUSTOM (extension provider ${JSON.stringify(spec.provider?.name)}) is not implemented: the requests its rules match are denied, as istiod does when it cannot find the provider`);
  const targeted = spec.targetRef !== undefined || spec.targetRefs !== undefined;
  if (targeted && spec.selector !== undefined) r.error(['spec', 'selector'], 'selector and targetRef(s) cannot both be set');
  if (targeted) r.warn(['spec', spec.targetRef !== undefined ? 'targetRef' : 'targetRefs'], 'targetRef policies apply to Gateway API gateways and waypoints, not to this proxy: ignored');
  const rules: AuthorizationPolicyDef['rules'] = [];
  (Array.isArray(spec.rules) ? spec.rules : []).forEach((rule: any, i: number) => {
    const at = ['spec', 'rules', i];
    if (!isPlainObject(rule)) return void r.error(at, 'a rule must be a mapping ({} matches everything)');
    const from: RbacSource[] = [];
    (Array.isArray(rule.from) ? rule.from : []).forEach((f: any, j: number) => {
      const s = f?.source;
      const sat = [...at, 'from', j, 'source'];
      if (!isPlainObject(s) || Object.keys(s).length === 0) return void r.error(sat, 'source must not be empty');
      const out: RbacSource = {};
      for (const field of SOURCE_FIELDS) {
        const m = readMatch(r, sat, s, field, field.endsWith('pBlocks') ? addressOrCidrError : undefined);
        if (m) out[field] = m;
      }
      from.push(out);
    });
    const to: RbacOperation[] = [];
    (Array.isArray(rule.to) ? rule.to : []).forEach((t: any, j: number) => {
      const o = t?.operation;
      const oat = [...at, 'to', j, 'operation'];
      if (!isPlainObject(o) || Object.keys(o).length === 0) return void r.error(oat, 'operation must not be empty');
      const out: RbacOperation = {};
      for (const field of OPERATION_FIELDS) {
        const m = readMatch(r, oat, o, field, field === 'ports' ? portError : undefined);
        if (m) out[field] = m;
      }
      to.push(out);
    });
    const when: RbacCondition[] = [];
    (Array.isArray(rule.when) ? rule.when : []).forEach((c: any, j: number) => {
      const cat = [...at, 'when', j];
      if (!isPlainObject(c)) return;
      if (typeof c.key !== 'string' || r.check([...cat, 'key'], conditionKeyError(c.key))) {
        if (typeof c.key !== 'string') r.error([...cat, 'key'], 'key is required');
        return;
      }
      const check = IP_KEYS.has(c.key) ? addressOrCidrError : c.key === 'destination.port' ? portError : undefined;
      const values = readValues(r, [...cat, 'values'], 'values', c.values, check);
      const notValues = readValues(r, [...cat, 'notValues'], 'notValues', c.notValues, check);
      const given = (v: unknown) => Array.isArray(v) && v.length > 0;
      if (!given(c.values) && !given(c.notValues)) return void r.error(cat, 'a condition needs values or notValues');
      if (!values && !notValues) return;
      when.push({ key: c.key, ...(values ? { values } : {}), ...(notValues ? { notValues } : {}) });
    });
    rules.push({ from, to, when });
  });
  if (r.errors > 0) return undefined;
  const sel = spec.selector?.matchLabels;
  return { resource: r.res, selector: isPlainObject(sel) ? { ...sel } : undefined, targeted, action, rules };
}

/**
 * Whether a policy (or RequestAuthentication) applies to a proxy, as Istio scopes them: its
 * namespace's, or the root namespace's (mesh-wide), narrowed by the selector; targetRef ones never.
 */
export function appliesTo(def: { resource: Resource; selector?: Record<string, string>; targeted: boolean }, proxyNs: string, labels: Record<string, string>, rootNs: string): boolean {
  if (def.targeted) return false;
  const ns = def.resource.namespace;
  if (ns !== proxyNs && ns !== rootNs) return false;
  return labelsMatch(def.selector, labels);
}

/**
 * Istio's RBAC filters for one proxy: DENY (CUSTOM first — denied, as istiod does when the
 * provider is missing — then DENY), ALLOW (present, possibly empty, once any ALLOW policy
 * applies), LOG (AUDIT). Policies are named `ns[<ns>]-policy[<name>]-rule[<i>]`.
 */
export function buildRbac(all: readonly AuthorizationPolicyDef[], proxyNs: string, labels: Record<string, string>, rootNs: string): RbacRules[] | undefined {
  const applied = all.filter((p) => appliesTo(p, proxyNs, labels, rootNs));
  if (applied.length === 0) return undefined;
  const named = (p: AuthorizationPolicyDef): RbacPolicy[] => p.rules.map((rule, i) => ({ name: `ns[${p.resource.namespace}]-policy[${p.resource.name}]-rule[${i}]`, ...rule }));
  const of = (action: AuthorizationPolicyDef['action']) => applied.filter((p) => p.action === action);
  const out: RbacRules[] = [];
  const deny = [...of('CUSTOM'), ...of('DENY')].flatMap(named);
  if (deny.length) out.push({ action: 'DENY', policies: deny });
  if (of('ALLOW').length) out.push({ action: 'ALLOW', policies: of('ALLOW').flatMap(named) });
  const audit = of('AUDIT').flatMap(named);
  if (audit.length) out.push({ action: 'LOG', policies: audit });
  return out.length ? out : undefined;
}
