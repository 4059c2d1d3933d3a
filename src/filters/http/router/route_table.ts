import { compileRe2 } from '../../../config/re2.js';
import type { HeaderMatcher, QueryParameterMatcher, Route, RouteConfiguration, VirtualHost } from '../../../config/model.js';
import { compileStringMatcher, type Matcher } from './string_matcher.js';

/** What route matching reads from a request: pseudo-headers and the flat header list. */
export interface RouteRequest {
  method: string;
  /** `:path` without the query string. */
  path: string;
  /** The query string without `?`, or '' when absent. */
  query: string;
  authority: string;
  scheme: string;
  /** Flat `[name, value, …]`, names lowercase. */
  headers: readonly string[];
}

type RequestMatcher = (r: RouteRequest) => boolean;

export interface CompiledRoute {
  route: Route;
  matches: RequestMatcher;
}

export interface CompiledVirtualHost {
  vh: VirtualHost;
  routes: CompiledRoute[];
}

function headerValue(r: RouteRequest, name: string): string | undefined {
  switch (name) {
    case ':method':
      return r.method;
    case ':authority':
    case 'host':
      return r.authority;
    case ':path':
      return r.query ? `${r.path}?${r.query}` : r.path;
    case ':scheme':
      return r.scheme;
  }
  // Envoy matches a repeated header against its values joined with ','.
  let out: string | undefined;
  const h = r.headers;
  for (let i = 0; i < h.length; i += 2) if (h[i] === name) out = out === undefined ? h[i + 1] : `${out},${h[i + 1]}`;
  return out;
}

function compileHeader(m: HeaderMatcher): RequestMatcher {
  const name = m.name.toLowerCase();
  const inner: Matcher = m.stringMatch ? compileStringMatcher(m.stringMatch) : () => true;
  const invert = m.invertMatch === true;
  const presence = m.presentMatch;
  return (r) => {
    const v = headerValue(r, name);
    const ok = presence !== undefined ? (v !== undefined) === presence : v !== undefined && inner(v);
    // An absent header fails every positive match, so an inverted one (Istio's withoutHeaders) matches.
    return invert ? !ok : ok;
  };
}

function queryValue(query: string, name: string): string | undefined {
  if (!query) return undefined;
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    if (k === name) return eq < 0 ? '' : part.slice(eq + 1);
  }
  return undefined;
}

function compileQuery(m: QueryParameterMatcher): RequestMatcher {
  const inner: Matcher = m.stringMatch ? compileStringMatcher(m.stringMatch) : () => true;
  return (r) => {
    const v = queryValue(r.query, m.name);
    if (v === undefined) return false;
    return m.presentMatch === true ? true : inner(v);
  };
}

function compilePath(route: Route): (path: string) => boolean {
  const { match } = route;
  const ci = !match.caseSensitive;
  if (match.path !== undefined) {
    const want = ci ? match.path.toLowerCase() : match.path;
    return ci ? (p) => p.toLowerCase() === want : (p) => p === want;
  }
  if (match.safeRegex !== undefined) {
    const re = compileRe2(match.safeRegex, { anchored: true, ignoreCase: ci });
    return (p) => re.test(p);
  }
  const prefix = match.prefix ?? '/';
  if (prefix === '/') return () => true;
  const want = ci ? prefix.toLowerCase() : prefix;
  return ci ? (p) => p.toLowerCase().startsWith(want) : (p) => p.startsWith(want);
}

function compileRoute(route: Route): CompiledRoute {
  const path = compilePath(route);
  const checks = [...route.match.headers.map(compileHeader), ...route.match.queryParameters.map(compileQuery)];
  const matches: RequestMatcher =
    checks.length === 0
      ? (r) => path(r.path)
      : (r) => {
          if (!path(r.path)) return false;
          for (let i = 0; i < checks.length; i++) if (!checks[i](r)) return false;
          return true;
        };
  return { route, matches };
}

/**
 * A RouteConfiguration compiled for one worker: virtual hosts indexed by domain with Envoy's
 * precedence (exact, then the longest `*.suffix` wildcard, then the longest `prefix.*`, then
 * `*`), and each route's match compiled to closures. Built once per snapshot, never per request.
 */
export class CompiledRouteConfiguration {
  private readonly exact = new Map<string, CompiledVirtualHost>();
  private readonly suffixes: [string, CompiledVirtualHost][] = [];
  private readonly prefixes: [string, CompiledVirtualHost][] = [];
  private catchAll: CompiledVirtualHost | undefined;
  /**
   * The last lookup: a worker's requests mostly name one host, and comparing with it costs
   * less than hashing a fresh string for the map.
   */
  private lastAuthority: string | undefined;
  private lastHost: CompiledVirtualHost | undefined;

  constructor(readonly config: RouteConfiguration) {
    for (const vh of config.virtualHosts) {
      const compiled: CompiledVirtualHost = { vh, routes: vh.routes.map(compileRoute) };
      for (const raw of vh.domains) {
        const d = raw.toLowerCase();
        if (d === '*') this.catchAll ??= compiled;
        else if (d.startsWith('*')) this.suffixes.push([d.slice(1), compiled]);
        else if (d.endsWith('*')) this.prefixes.push([d.slice(0, -1), compiled]);
        else if (!this.exact.has(d)) this.exact.set(d, compiled);
      }
    }
    this.suffixes.sort((a, b) => b[0].length - a[0].length);
    this.prefixes.sort((a, b) => b[0].length - a[0].length);
  }

  /** `authority` must already be lowercase (and without port when the HCM strips it). */
  virtualHost(authority: string): CompiledVirtualHost | undefined {
    if (authority === this.lastAuthority) return this.lastHost;
    const vh = this.lookup(authority);
    this.lastAuthority = authority;
    this.lastHost = vh;
    return vh;
  }

  private lookup(authority: string): CompiledVirtualHost | undefined {
    const hit = this.exact.get(authority);
    if (hit) return hit;
    for (const [suffix, vh] of this.suffixes) if (authority.length > suffix.length && authority.endsWith(suffix)) return vh;
    for (const [prefix, vh] of this.prefixes) if (authority.length > prefix.length && authority.startsWith(prefix)) return vh;
    return this.catchAll;
  }

  /** First matching route wins, as in Envoy and Istio. */
  static route(vh: CompiledVirtualHost, r: RouteRequest): Route | undefined {
    const routes = vh.routes;
    for (let i = 0; i < routes.length; i++) if (routes[i].matches(r)) return routes[i].route;
    return undefined;
  }
}
