import type { CorsPolicy } from '../../../config/model.js';
import { compileStringMatcher, type Matcher } from '../router/string_matcher.js';
import { getHeader, type HeaderList } from '../../network/http_connection_manager/codec/index.js';
import { objectMemo } from '../../../config/object_memo.js';

const originMatchers = objectMemo((policy: CorsPolicy): Matcher[] => policy.allowOriginStringMatch.map(compileStringMatcher));

function originAllowed(policy: CorsPolicy, origin: string): boolean {
  return originMatchers(policy).some((m) => m(origin));
}

export type CorsDecision =
  | { kind: 'none' }
  /** A preflight for an allowed origin: answered by the proxy with these headers. */
  | { kind: 'preflight'; headers: string[] }
  /** An actual request from an allowed origin: these headers go on its response. */
  | { kind: 'response'; headers: string[] };

const NONE: CorsDecision = { kind: 'none' };

/**
 * Envoy's CORS filter with a VirtualService `corsPolicy`: a preflight (OPTIONS with Origin and
 * Access-Control-Request-Method) from an allowed origin is answered 200 by the proxy; other
 * requests from an allowed origin get Access-Control-Allow-Origin (and friends) on the
 * response. Requests from other origins pass through untouched, preflights included
 * (Istio's `unmatchedPreflights: FORWARD`).
 */
export function corsDecision(policy: CorsPolicy | undefined, method: string, headers: HeaderList): CorsDecision {
  if (!policy) return NONE;
  const origin = getHeader(headers, 'origin');
  if (!origin || !originAllowed(policy, origin)) return NONE;
  const out = ['access-control-allow-origin', origin];
  if (policy.allowCredentials) out.push('access-control-allow-credentials', 'true');
  if (method === 'OPTIONS' && getHeader(headers, 'access-control-request-method')) {
    if (policy.allowMethods.length) out.push('access-control-allow-methods', policy.allowMethods.join(','));
    if (policy.allowHeaders.length) out.push('access-control-allow-headers', policy.allowHeaders.join(','));
    if (policy.maxAgeMs !== undefined) out.push('access-control-max-age', String(Math.floor(policy.maxAgeMs / 1000)));
    return { kind: 'preflight', headers: out };
  }
  if (policy.exposeHeaders.length) out.push('access-control-expose-headers', policy.exposeHeaders.join(','));
  return { kind: 'response', headers: out };
}
