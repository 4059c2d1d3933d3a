import type { Route, RouteAction } from '../../../config/model.js';
import { compileRe2 } from '../../../config/re2.js';
import { lastColon } from '../../network/http_connection_manager/codec/index.js';
import { objectMemo } from '../../../config/object_memo.js';

export function stripPort(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end < 0 ? authority : authority.slice(0, end + 1);
  }
  const colon = lastColon(authority);
  return colon < 0 ? authority : authority.slice(0, colon);
}

/** Envoy's path_redirect: keeps the request's query string unless the redirect path has its own. */
export function redirectPath(pathRedirect: string, requestPath: string): string {
  const p = pathRedirect.startsWith('/') ? pathRedirect : `/${pathRedirect}`;
  if (p.includes('?')) return p;
  const q = requestPath.indexOf('?');
  return q < 0 ? p : p + requestPath.slice(q);
}

/** The Location of a route's redirect for a request to `authority` + `path`. */
export function redirectLocation(route: Route, authority: string, path: string): string {
  const r = route.redirect!;
  const scheme = r.schemeRedirect ?? 'http';
  let host = r.hostRedirect ?? stripPort(authority);
  const port = r.portRedirect ?? (r.derivePort === 'FROM_REQUEST_PORT' ? Number(authority.split(':')[1]) || undefined : undefined);
  if (port && !((scheme === 'http' && port === 80) || (scheme === 'https' && port === 443))) host = `${host}:${port}`;
  return `${scheme}://${host}${r.pathRedirect === undefined ? path : redirectPath(r.pathRedirect, path)}`;
}

export function rewritePath(path: string, route: Route, action: RouteAction): string {
  const q = path.indexOf('?');
  const bare = q < 0 ? path : path.slice(0, q);
  const query = q < 0 ? '' : path.slice(q);
  if (action.regexRewrite) {
    const { re, substitution } = compiledRewrite(action.regexRewrite);
    return bare.replace(re, substitution) + query;
  }
  const m = route.match;
  // Envoy: a prefix route swaps its prefix, a path route its path; on a regex route
  // prefix_rewrite replaces the whole path (the query string stays).
  if (m.safeRegex !== undefined) return action.prefixRewrite! + query;
  const matched = m.prefix ?? m.path ?? '';
  return action.prefixRewrite! + bare.slice(matched.length) + query;
}

type RegexRewrite = NonNullable<RouteAction['regexRewrite']>;
/** Each rewrite's regex and JS substitution, compiled on first use rather than per request. */
const compiledRewrite = objectMemo((r: RegexRewrite): { re: RegExp; substitution: string } => ({
  re: compileRe2(r.pattern, { global: true }),
  // RE2's \1 is JS's $1.
  substitution: r.substitution.replace(/\\(\d)/g, '$$$1'),
}));
