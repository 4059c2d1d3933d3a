import type { JWTPayload } from 'jose';
import { jose } from './jose_lazy.js';
import type { JwtProvider } from '../../../config/model.js';
import { getHeader, removeHeader, setHeader, type HeaderList } from '../../network/http_connection_manager/codec/headers.js';
import type { RequestIdentity } from '../rbac/attributes.js';
import { inlineJwks, jwksFor, type KeySet } from './jwks_cache.js';

/** Envoy's allowed clock skew for exp / nbf. */
const CLOCK_SKEW_S = 60;

/** The result for one request: no token (Istio lets it through), a verified identity, or Envoy's failure text. */
export type JwtOutcome = { kind: 'missing' } | { kind: 'verified'; identity: RequestIdentity } | { kind: 'failed'; message: string };

interface Located {
  provider: CompiledProvider;
  token: string;
  header?: string;
}

class CompiledProvider {
  constructor(readonly config: JwtProvider) {
    if (config.jwksUri) jwksFor(config.jwksUri); // start fetching now, not on the first request
  }

  async keys(): Promise<KeySet | undefined> {
    if (this.config.jwks !== undefined) return inlineJwks(this.config.jwks);
    if (!this.config.jwksUri) return undefined;
    const e = jwksFor(this.config.jwksUri);
    if (!e.keys) await e.ready;
    return e.keys;
  }

  locate(headers: HeaderList, query: string): Located | undefined {
    for (const h of this.config.fromHeaders) {
      const v = getHeader(headers, h.name);
      if (v === undefined) continue;
      if (!v.startsWith(h.prefix)) continue;
      const token = v.slice(h.prefix.length).trim();
      if (token) return { provider: this, token, header: h.name };
    }
    if (query && this.config.fromParams.length) {
      const params = new URLSearchParams(query);
      for (const p of this.config.fromParams) {
        const token = params.get(p);
        if (token) return { provider: this, token };
      }
    }
    return undefined;
  }
}

/** Envoy's jwt_authn status texts for jose's errors (the 401 body; details with `_` for spaces). */
function failure(err: unknown, errors: Awaited<ReturnType<typeof jose>>['errors']): string {
  if (err instanceof errors.JWTExpired) return 'Jwt is expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'Audiences in Jwt are not allowed';
    if (err.claim === 'iss') return 'Jwt issuer is not configured';
    if (err.claim === 'nbf') return 'Jwt not yet valid';
  }
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections';
  return 'Jwt verification fails';
}

function identityOf(payload: JWTPayload): RequestIdentity {
  const aud = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  return {
    principal: `${payload.iss ?? ''}/${payload.sub ?? ''}`,
    claims: payload as Record<string, unknown>,
    audiences: aud,
    ...(typeof payload.azp === 'string' ? { presenter: payload.azp } : {}),
  };
}

/**
 * Envoy's jwt_authn as Istio configures it (`requires_any` of the providers, or missing): a
 * request without a token passes (AuthorizationPolicy decides); a token that no provider of
 * its issuer verifies fails with 401. A verified token is removed unless forwardOriginalToken,
 * and its payload or claims are copied to headers when asked.
 */
export class JwtAuthn {
  private readonly providers: CompiledProvider[];

  constructor(providers: readonly JwtProvider[]) {
    this.providers = providers.map((p) => new CompiledProvider(p));
  }

  async authenticate(headers: HeaderList, query: string): Promise<JwtOutcome> {
    let found: Located[] | undefined;
    for (const p of this.providers) {
      const l = p.locate(headers, query);
      if (l) (found ??= []).push(l);
    }
    if (!found) return { kind: 'missing' };
    const { decodeJwt, errors, jwtVerify } = await jose();
    let message = 'Jwt issuer is not configured';
    for (const l of found) {
      let iss: string | undefined;
      try {
        iss = decodeJwt(l.token).iss;
      } catch (err) {
        message = failure(err, errors);
        continue;
      }
      if (iss !== l.provider.config.issuer) continue;
      const keys = await l.provider.keys();
      if (!keys) {
        message = 'Jwks remote fetch is failed';
        continue;
      }
      try {
        const aud = l.provider.config.audiences;
        const { payload } = await jwtVerify(l.token, keys, { issuer: l.provider.config.issuer, audience: aud.length ? aud : undefined, clockTolerance: CLOCK_SKEW_S });
        this.mutate(headers, l, payload);
        return { kind: 'verified', identity: identityOf(payload) };
      } catch (err) {
        message = failure(err, errors);
      }
    }
    return { kind: 'failed', message };
  }

  private mutate(headers: HeaderList, l: Located, payload: JWTPayload): void {
    const c = l.provider.config;
    if (!c.forwardOriginalToken && l.header) removeHeader(headers, l.header);
    if (c.outputPayloadToHeader) setHeader(headers, c.outputPayloadToHeader, l.token.split('.')[1]);
    for (const o of c.outputClaimToHeaders) {
      const v = (payload as Record<string, unknown>)[o.claim];
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') setHeader(headers, o.header, String(v));
    }
  }
}
