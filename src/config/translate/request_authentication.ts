import type { JwtProvider } from '../model.js';
import { isPlainObject } from '../validate/values.js';
import type { ResourceReport } from './context.js';
import { appliesTo } from './authorization_policy.js';
import type { Resource } from '../resources.js';

export interface RequestAuthenticationDef {
  resource: Resource;
  selector?: Record<string, string>;
  targeted: boolean;
  providers: JwtProvider[];
}

const HEADER_NAME = /^[-_A-Za-z0-9]+$/;

/** Validates a RequestAuthentication; each jwtRule becomes one of Envoy's JWT providers. */
export function readRequestAuthentication(r: ResourceReport): RequestAuthenticationDef | undefined {
  const spec = r.res.spec ?? {};
  if (!isPlainObject(spec)) return void r.error(['spec'], 'spec must be a mapping');
  const targeted = spec.targetRef !== undefined || spec.targetRefs !== undefined;
  if (targeted && spec.selector !== undefined) r.error(['spec', 'selector'], 'selector and targetRef(s) cannot both be set');
  if (targeted) r.warn(['spec', spec.targetRef !== undefined ? 'targetRef' : 'targetRefs'], 'targetRef policies apply to Gateway API gateways and waypoints, not to this proxy: ignored');
  const providers: JwtProvider[] = [];
  (Array.isArray(spec.jwtRules) ? spec.jwtRules : []).forEach((j: any, i: number) => {
    const at = ['spec', 'jwtRules', i];
    if (!isPlainObject(j)) return;
    if (typeof j.issuer !== 'string' || j.issuer === '') return void r.error([...at, 'issuer'], 'issuer is required');
    let jwksUri: string | undefined;
    if (typeof j.jwksUri === 'string') {
      try {
        const u = new URL(j.jwksUri);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
        jwksUri = j.jwksUri;
      } catch {
        return void r.error([...at, 'jwksUri'], `invalid jwksUri ${JSON.stringify(j.jwksUri)} (an http or https URL)`);
      }
    }
    if (typeof j.jwks === 'string') {
      let keys: unknown;
      try {
        keys = JSON.parse(j.jwks).keys;
      } catch (err) {
        return void r.error([...at, 'jwks'], `jwks is not JSON: ${(err as Error).message}`);
      }
      if (!Array.isArray(keys)) return void r.error([...at, 'jwks'], 'jwks must be a JSON Web Key Set ({"keys": [...]})');
      if (jwksUri) r.warn([...at, 'jwksUri'], 'jwks is given inline: jwksUri is not used');
    }
    if (typeof j.jwks !== 'string' && !jwksUri) r.warn([...at], 'neither jwks nor jwksUri: OpenID discovery is not implemented, so tokens of this issuer are rejected');
    const fromHeaders: JwtProvider['fromHeaders'] = [];
    (Array.isArray(j.fromHeaders) ? j.fromHeaders : []).forEach((h: any, k: number) => {
      if (typeof h?.name !== 'string' || !HEADER_NAME.test(h.name)) return void r.error([...at, 'fromHeaders', k, 'name'], 'a header name is required');
      fromHeaders.push({ name: h.name.toLowerCase(), prefix: typeof h.prefix === 'string' ? h.prefix : '' });
    });
    const fromParams = (Array.isArray(j.fromParams) ? j.fromParams : []).filter((p: unknown): p is string => typeof p === 'string' && p !== '');
    // Istio's default locations: `Authorization: Bearer <token>` and `?access_token=`.
    if (fromHeaders.length === 0 && fromParams.length === 0) {
      fromHeaders.push({ name: 'authorization', prefix: 'Bearer ' });
      fromParams.push('access_token');
    }
    const outputClaimToHeaders: JwtProvider['outputClaimToHeaders'] = [];
    (Array.isArray(j.outputClaimToHeaders) ? j.outputClaimToHeaders : []).forEach((c: any, k: number) => {
      if (typeof c?.header !== 'string' || !HEADER_NAME.test(c.header) || typeof c?.claim !== 'string' || c.claim === '')
        return void r.error([...at, 'outputClaimToHeaders', k], 'header and claim are required');
      outputClaimToHeaders.push({ header: c.header.toLowerCase(), claim: c.claim });
    });
    const out = j.outputPayloadToHeader;
    if (out !== undefined && (typeof out !== 'string' || !HEADER_NAME.test(out))) return void r.error([...at, 'outputPayloadToHeader'], 'invalid header name');
    providers.push({
      name: `origins-${i}`,
      issuer: j.issuer,
      audiences: (Array.isArray(j.audiences) ? j.audiences : []).filter((a: unknown): a is string => typeof a === 'string'),
      ...(typeof j.jwks === 'string' ? { jwks: j.jwks } : jwksUri ? { jwksUri } : {}),
      fromHeaders,
      fromParams,
      forwardOriginalToken: j.forwardOriginalToken === true,
      ...(out ? { outputPayloadToHeader: out.toLowerCase() } : {}),
      outputClaimToHeaders,
    });
  });
  if (r.errors > 0) return undefined;
  const sel = spec.selector?.matchLabels;
  return { resource: r.res, selector: isPlainObject(sel) ? { ...sel } : undefined, targeted, providers };
}

/** The JWT providers of every RequestAuthentication that applies to the proxy (Istio's scoping). */
export function buildJwtProviders(all: readonly RequestAuthenticationDef[], proxyNs: string, labels: Record<string, string>, rootNs: string): JwtProvider[] | undefined {
  const providers = all
    .filter((d) => appliesTo(d, proxyNs, labels, rootNs))
    .flatMap((d) => d.providers.map((p) => ({ ...p, name: `${d.resource.namespace}/${d.resource.name}/${p.name}` })));
  return providers.length ? providers : undefined;
}
