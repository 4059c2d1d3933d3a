import { addressIp } from '../../network/http_connection_manager/forwarded_headers.js';
import type { Authorization } from '../../../config/model.js';
import type { StatsWriter } from '../../../stats/store.js';
import { H } from '../../../stats/scopes.js';
import type { LocalReply } from '../../network/http_connection_manager/local_reply.js';
import { JwtAuthn } from '../jwt_authn/jwt_authn.js';
import type { AuthzInput } from './attributes.js';
import type { HttpContext } from '../../network/http_connection_manager/http_context.js';
import type { HeaderList } from '../../network/http_connection_manager/codec/headers.js';
import { compiledRbac, type CompiledRbac } from './engine.js';
import { objectMemo } from '../../../config/object_memo.js';

/** Envoy's RBAC local reply: 403, this body, the matched policy in the details, no response flag. */
export const rbacDenied = (details: string): LocalReply => ({ status: 403, body: 'RBAC: access denied', details, flag: 0 });

/** Envoy's jwt_authn local reply: 401 with the status text as body and in the details. */
function jwtDenied(message: string, input: AuthzInput): LocalReply {
  return {
    status: 401,
    body: message,
    details: `jwt_authn_access_denied{${message.replace(/ /g, '_')}}`,
    flag: 0,
    headers: ['www-authenticate', `Bearer realm="http://${input.host ?? ''}${input.path ?? ''}", error="invalid_token"`],
  };
}

/**
 * The connection manager's jwt_authn → RBAC filters (Istio's inbound order), compiled once per
 * Authorization object. `done` gets undefined to go on with routing, or the reply to send.
 */
export class HttpAuthorization {
  private readonly rbac: CompiledRbac | undefined;
  private readonly jwt: JwtAuthn | undefined;

  constructor(auth: Authorization) {
    this.rbac = auth.rbac && compiledRbac(auth.rbac);
    this.jwt = auth.jwtProviders && new JwtAuthn(auth.jwtProviders);
  }

  /**
   * `done` runs synchronously without JWT providers, else once the token is verified. An
   * exception it throws then goes to `failed`: there is no caller left to catch it, and left
   * as an unhandled rejection it would end the worker thread and every connection on it.
   */
  check(input: AuthzInput, query: string, stats: StatsWriter, base: number | undefined, done: (reply: LocalReply | undefined) => void, failed: (err: unknown) => void): void {
    if (!this.jwt) return done(this.authorize(input, stats, base));
    this.jwt.authenticate(input.headers!, query).then(
      (outcome) => {
        if (outcome.kind === 'failed') {
          if (base !== undefined) stats.inc(base + H['jwt_authn.denied']);
          return done(jwtDenied(outcome.message, input));
        }
        if (base !== undefined) stats.inc(base + H['jwt_authn.allowed']);
        if (outcome.kind === 'verified') input.identity = outcome.identity;
        done(this.authorize(input, stats, base));
      },
      () => done(jwtDenied('Jwt verification fails', input)),
    ).catch(failed);
  }

  /** RBAC; counted per filter as Envoy does (Istio's DENY and ALLOW are two filters). */
  private authorize(input: AuthzInput, stats: StatsWriter, base: number | undefined): LocalReply | undefined {
    if (!this.rbac) return undefined;
    const v = this.rbac.evaluate(input);
    if (base !== undefined) {
      const allowedFilters = v.allowed ? v.evaluated : v.evaluated - 1;
      if (allowedFilters > 0) stats.add(base + H['rbac.allowed'], allowedFilters);
      if (!v.allowed) stats.inc(base + H['rbac.denied']);
    }
    return v.allowed ? undefined : rbacDenied(v.details!);
  }
}

export const httpAuthorization = objectMemo((auth: Authorization): HttpAuthorization => new HttpAuthorization(auth));

/** A request's attributes; `peer` is the connection's `ip:port`. */
export function httpAuthzInput(peer: string, ctx: HttpContext, method: string, authority: string, path: string, headers: HeaderList): AuthzInput {
  const ip = addressIp(peer);
  return {
    sourceIp: ip,
    remoteIp: ip,
    destinationIp: ctx.originalDst.address,
    destinationPort: ctx.originalDst.port,
    peerPrincipal: ctx.tls?.peerPrincipal,
    sni: ctx.tls?.sni,
    host: authority,
    method,
    path,
    headers,
  };
}
