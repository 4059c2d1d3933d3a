import { isIP } from 'node:net';
import { DOMAIN_SUFFIX } from './context.js';

/**
 * Istio's host names: short names resolve against the namespace of the resource that wrote
 * them (`reviews` in namespace `default` → `reviews.default.svc.cluster.local`); wildcards
 * are a leading `*` (`*.example.com`, or `*` for everything).
 */
export function resolveHost(host: string, namespace: string): string {
  const h = host.toLowerCase();
  if (h === '*' || h.includes('.') || isIP(h)) return h;
  return `${h}.${namespace}.svc.${DOMAIN_SUFFIX}`;
}

export const isWildcard = (h: string) => h.startsWith('*');

/** `*.example.com` → `.example.com`; `*` → ''. */
const suffixOf = (h: string) => h.slice(1);

/** Does `name` (a host or wildcard) fall inside `pattern`? (Istio's SubsetOf.) */
export function hostSubsetOf(name: string, pattern: string): boolean {
  if (pattern === '*') return true;
  if (!isWildcard(pattern)) return name === pattern;
  const suffix = suffixOf(pattern);
  if (isWildcard(name)) return suffixOf(name).endsWith(suffix);
  return name.endsWith(suffix) && name.length > suffix.length;
}

/** Do two hosts or wildcards overlap? (Istio's Matches.) */
export function hostsOverlap(a: string, b: string): boolean {
  return hostSubsetOf(a, b) || hostSubsetOf(b, a);
}

/** Higher is more specific: an exact name beats any wildcard, a longer wildcard beats a shorter one. */
export function specificity(pattern: string): number {
  return isWildcard(pattern) ? suffixOf(pattern).length : Number.MAX_SAFE_INTEGER;
}

/** Among `patterns`, the most specific one that `host` falls inside (Istio's MostSpecificHostMatch). */
export function mostSpecific<T>(host: string, candidates: readonly T[], patternOf: (t: T) => string): T | undefined {
  let best: T | undefined;
  let bestScore = -1;
  for (const c of candidates) {
    const p = patternOf(c);
    if (!hostSubsetOf(host, p)) continue;
    const s = specificity(p);
    if (s > bestScore) {
      best = c;
      bestScore = s;
    }
  }
  return best;
}

/**
 * exportTo: `*` everywhere, `.` the resource's own namespace, `~` nowhere, else namespace
 * names. Absent: the mesh default (itself `*` unless MeshConfig says otherwise).
 */
export function exportedTo(exportTo: readonly string[] | undefined, ownNamespace: string, proxyNamespace: string, meshDefault: readonly string[]): boolean {
  const list = exportTo && exportTo.length > 0 ? exportTo : meshDefault;
  for (const e of list) {
    if (e === '*') return true;
    if (e === '.' && ownNamespace === proxyNamespace) return true;
    if (e === proxyNamespace) return true;
  }
  return false;
}

/**
 * The domains of a sidecar virtual host for `host:port`, as Istio generates them: the name,
 * its shorter Kubernetes forms the proxy can use (`reviews`, `reviews.default`,
 * `reviews.default.svc` — the first only from the same namespace), and the service's VIPs;
 * each with and without `:port`.
 */
export function virtualHostDomains(host: string, port: number, proxyNamespace: string, addresses: readonly string[]): string[] {
  const names = [host];
  const k8s = `.svc.${DOMAIN_SUFFIX}`;
  if (host.endsWith(k8s)) {
    const [name, ns] = host.slice(0, -k8s.length).split('.');
    if (name && ns && !host.slice(0, -k8s.length).includes('.', name.length + 1)) {
      if (ns === proxyNamespace) names.push(name);
      names.push(`${name}.${ns}`, `${name}.${ns}.svc`);
    }
  }
  for (const a of addresses) if (!a.includes('/')) names.push(a.includes(':') ? `[${a}]` : a);
  const out: string[] = [];
  for (const n of names) out.push(n, `${n}:${port}`);
  return out;
}

/** Kubernetes-style label selector: every selector label is present with the same value. */
export function labelsMatch(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false;
  return true;
}
