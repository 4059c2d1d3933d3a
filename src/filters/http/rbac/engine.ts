import type { RbacCondition, RbacOperation, RbacPolicy, RbacRules, RbacSource } from '../../../config/model.js';
import { getHeaderAll, lastColon } from '../../network/http_connection_manager/codec/index.js';
import { namespaceOf, principalOf, type AuthzInput } from './attributes.js';
import { envoyPolicy } from './envoy_rules.js';
import { ipValueMatcher, istioString, listMatcher, valueMatcher, type Matcher } from './matchers.js';
import { objectMemo } from '../../../config/object_memo.js';

type Test = (input: AuthzInput) => boolean;

/** The outcome of one RBAC filter, counted as Envoy counts it (`rbac.allowed` / `rbac.denied`). */
export interface Verdict {
  allowed: boolean;
  /** Envoy's response details / termination details, when denied. */
  details?: string;
  /** Filters evaluated before the decision, and how many of them allowed (for the stats). */
  evaluated: number;
}

const exact = (p: string) => istioString(p);
const caseless = (p: string) => istioString(p, true);

/** Hosts match case-insensitively; a host written without a port also matches the authority with any port. */
function hostMatcher(pattern: string): Matcher {
  const m = caseless(pattern);
  return (v) => {
    if (m(v)) return true;
    const colon = v ? lastColon(v) : -1;
    return colon > 0 && !v!.endsWith(']') && m(v!.slice(0, colon));
  };
}

/** Ports compare as numbers: no string per request. */
function portsMatcher(m: { values?: string[]; notValues?: string[] }): (port: number) => boolean {
  const yes = m.values?.length ? new Set(m.values.map(Number)) : undefined;
  const no = m.notValues?.length ? new Set(m.notValues.map(Number)) : undefined;
  return (port) => (!yes || yes.has(port)) && !(no && no.has(port));
}

function all(tests: Test[]): Test {
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0];
  return (input) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i](input)) return false;
    return true;
  };
}

function any(tests: Test[]): Test {
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0];
  return (input) => {
    for (let i = 0; i < tests.length; i++) if (tests[i](input)) return true;
    return false;
  };
}

function source(s: RbacSource): Test {
  const tests: Test[] = [];
  if (s.principals) {
    const m = valueMatcher(s.principals, exact);
    tests.push((i) => m(principalOf(i)));
  }
  if (s.requestPrincipals) {
    const m = valueMatcher(s.requestPrincipals, exact);
    tests.push((i) => m(i.identity?.principal));
  }
  if (s.namespaces) {
    const m = valueMatcher(s.namespaces, exact);
    tests.push((i) => m(namespaceOf(i)));
  }
  if (s.ipBlocks) {
    const m = ipValueMatcher(s.ipBlocks);
    tests.push((i) => m(i.sourceIp));
  }
  if (s.remoteIpBlocks) {
    const m = ipValueMatcher(s.remoteIpBlocks);
    tests.push((i) => m(i.remoteIp));
  }
  return all(tests);
}

function operation(o: RbacOperation): Test {
  const tests: Test[] = [];
  if (o.hosts) {
    const m = valueMatcher(o.hosts, hostMatcher);
    tests.push((i) => m(i.host));
  }
  if (o.ports) {
    const m = portsMatcher(o.ports);
    tests.push((i) => m(i.destinationPort));
  }
  if (o.methods) {
    const m = valueMatcher(o.methods, exact);
    tests.push((i) => m(i.method));
  }
  if (o.paths) {
    const m = valueMatcher(o.paths, exact);
    tests.push((i) => m(i.path));
  }
  return all(tests);
}

/** `request.auth.claims[a][b]`: nested claims; strings, or lists of strings (any element). */
function claimValues(claims: Record<string, unknown> | undefined, path: readonly string[]): string[] | undefined {
  let v: unknown = claims;
  for (const k of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  if (typeof v === 'number' || typeof v === 'boolean') return [String(v)];
  return undefined;
}

function condition(c: RbacCondition): Test {
  const bracket = c.key.indexOf('[');
  const base = bracket < 0 ? c.key : c.key.slice(0, bracket);
  const args = bracket < 0 ? [] : c.key.slice(bracket + 1, -1).split('][');
  switch (base) {
    case 'request.headers': {
      const name = args[0].toLowerCase();
      const m = valueMatcher(c, exact);
      // Several fields of one name are matched as Envoy joins them: comma-separated.
      return (i) => {
        const vs = i.headers ? getHeaderAll(i.headers, name) : [];
        return m(vs.length === 0 ? undefined : vs.length === 1 ? vs[0] : vs.join(','));
      };
    }
    case 'request.auth.claims': {
      const m = listMatcher(c, exact);
      return (i) => m(claimValues(i.identity?.claims, args));
    }
    case 'request.auth.audiences': {
      const m = listMatcher(c, exact);
      return (i) => m(i.identity?.audiences);
    }
    case 'request.auth.principal': {
      const m = valueMatcher(c, exact);
      return (i) => m(i.identity?.principal);
    }
    case 'request.auth.presenter': {
      const m = valueMatcher(c, exact);
      return (i) => m(i.identity?.presenter);
    }
    case 'source.ip': {
      const m = ipValueMatcher(c);
      return (i) => m(i.sourceIp);
    }
    case 'remote.ip': {
      const m = ipValueMatcher(c);
      return (i) => m(i.remoteIp);
    }
    case 'destination.ip': {
      const m = ipValueMatcher(c);
      return (i) => m(i.destinationIp);
    }
    case 'destination.port': {
      const m = portsMatcher(c);
      return (i) => m(i.destinationPort);
    }
    case 'source.namespace': {
      const m = valueMatcher(c, exact);
      return (i) => m(namespaceOf(i));
    }
    case 'source.principal': {
      const m = valueMatcher(c, exact);
      return (i) => m(principalOf(i));
    }
    case 'connection.sni': {
      const m = valueMatcher(c, exact);
      return (i) => m(i.sni);
    }
  }
  // Validation rejects other keys; a model from elsewhere (xDS) fails closed.
  return () => false;
}

/** One rule: any of `from`, any of `to`, all of `when` (an empty rule matches everything). */
export function compilePolicy(p: RbacPolicy): Test {
  if (p.envoy) return envoyPolicy(p.envoy);
  return all([any(p.from.map(source)), any(p.to.map(operation)), all(p.when.map(condition))]);
}

interface CompiledFilter {
  action: RbacRules['action'];
  policies: { name: string; test: Test }[];
}

/**
 * The RBAC filters of one listener, compiled once per configuration: evaluation is a walk over
 * closures, with no parsing per request.
 */
export class CompiledRbac {
  private readonly filters: CompiledFilter[];
  /** The verdict of an allowed request is always the same object: nothing allocated on the common path. */
  private readonly allowed: Verdict;

  constructor(rules: readonly RbacRules[]) {
    this.filters = rules.map((r) => ({ action: r.action, policies: r.policies.map((p) => ({ name: p.name, test: compilePolicy(p) })) }));
    this.allowed = Object.freeze({ allowed: true, evaluated: this.filters.length });
  }

  /** Istio's order (the filters come DENY, ALLOW, LOG): a matching DENY denies; an ALLOW filter with no match denies. */
  evaluate(input: AuthzInput): Verdict {
    let evaluated = 0;
    const allowed = this.allowed;
    for (const f of this.filters) {
      evaluated++;
      if (f.action === 'LOG') continue;
      const matched = firstMatch(f.policies, input);
      if (f.action === 'DENY' && matched !== undefined) return { allowed: false, details: deniedBy(matched), evaluated };
      if (f.action === 'ALLOW' && matched === undefined) return { allowed: false, details: deniedBy('none'), evaluated };
    }
    return allowed;
  }
}

const deniedBy = (policy: string) => `rbac_access_denied_matched_policy[${policy}]`;

function firstMatch(policies: CompiledFilter['policies'], input: AuthzInput): string | undefined {
  for (let i = 0; i < policies.length; i++) if (policies[i].test(input)) return policies[i].name;
  return undefined;
}

/** One compilation per rules object (snapshots keep unchanged objects identical). */
export const compiledRbac = objectMemo((rules: readonly RbacRules[]): CompiledRbac => new CompiledRbac(rules));
