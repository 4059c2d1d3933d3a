/**
 * RequestAuthentication (issue 12 item 5): JWT verification with jose, keys generated here;
 * a JWKS from inline text and from a real local HTTP server.
 */
import test from 'ava';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { JwtAuthn } from '../../src/filters/http/jwt_authn/jwt_authn.js';
import type { Authorization, JwtProvider } from '../../src/config/model.js';
import { HttpAuthorization } from '../../src/filters/http/rbac/http_authz.js';
import type { AuthzInput } from '../../src/filters/http/rbac/attributes.js';
import type { StatsWriter } from '../../src/stats/store.js';
import { getHeader } from '../../src/filters/network/http_connection_manager/codec/headers.js';

const ISS = 'https://issuer.example';

async function keys(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { privateKey, jwks: JSON.stringify({ keys: [jwk] }) };
}

function provider(p: Partial<JwtProvider>): JwtProvider {
  return { name: 'origins-0', issuer: ISS, audiences: [], fromHeaders: [{ name: 'authorization', prefix: 'Bearer ' }], fromParams: ['access_token'], forwardOriginalToken: false, outputClaimToHeaders: [], ...p };
}

function sign(key: CryptoKey, kid: string, claims: Record<string, unknown> = {}, opts: { iss?: string; exp?: string | number; aud?: string } = {}) {
  let j = new SignJWT({ groups: ['admins'], ...claims }).setProtectedHeader({ alg: 'RS256', kid }).setIssuer(opts.iss ?? ISS).setSubject('alice').setIssuedAt();
  if (opts.aud) j = j.setAudience(opts.aud);
  j = j.setExpirationTime(opts.exp ?? '10m');
  return j.sign(key);
}

test('jwt_authn: a valid token gives request.auth.principal <iss>/<sub> and claims; the token is removed unless forwarded; payload to a header', async (t) => {
  const k = await keys('k1');
  const authn = new JwtAuthn([provider({ jwks: k.jwks, outputPayloadToHeader: 'x-jwt-payload', outputClaimToHeaders: [{ header: 'x-sub', claim: 'sub' }] })]);
  const token = await sign(k.privateKey, 'k1');
  const headers = ['host', 'a', 'authorization', `Bearer ${token}`];
  const out = await authn.authenticate(headers, '');
  t.is(out.kind, 'verified');
  if (out.kind !== 'verified') return;
  t.is(out.identity.principal, `${ISS}/alice`);
  t.deepEqual(out.identity.claims.groups, ['admins']);
  t.is(getHeader(headers, 'authorization'), undefined, 'forwardOriginalToken false: the token is not sent upstream');
  t.deepEqual(JSON.parse(Buffer.from(getHeader(headers, 'x-jwt-payload')!, 'base64url').toString()).sub, 'alice');
  t.is(getHeader(headers, 'x-sub'), 'alice');

  const kept = ['authorization', `Bearer ${token}`];
  await new JwtAuthn([provider({ jwks: k.jwks, forwardOriginalToken: true })]).authenticate(kept, '');
  t.is(getHeader(kept, 'authorization'), `Bearer ${token}`);
});

test('jwt_authn: missing passes; bad signature, expired, wrong audience, unknown issuer and garbage fail with Envoy texts', async (t) => {
  const k = await keys('k1');
  const other = await keys('k1');
  const authn = new JwtAuthn([provider({ jwks: k.jwks, audiences: ['httpbin'] })]);
  const check = async (token: string) => {
    const out = await authn.authenticate(['authorization', `Bearer ${token}`], '');
    return out.kind === 'failed' ? out.message : out.kind;
  };
  t.is((await authn.authenticate(['host', 'x'], '')).kind, 'missing');
  t.is(await check(await sign(k.privateKey, 'k1', {}, { aud: 'httpbin' })), 'verified');
  t.is(await check(await sign(other.privateKey, 'k1', {}, { aud: 'httpbin' })), 'Jwt verification fails');
  t.is(await check(await sign(k.privateKey, 'k1', {}, { aud: 'httpbin', exp: Math.floor(Date.now() / 1000) - 3600 })), 'Jwt is expired');
  t.is(await check(await sign(k.privateKey, 'k1', {}, { aud: 'other' })), 'Audiences in Jwt are not allowed');
  t.is(await check(await sign(k.privateKey, 'k1', {}, { iss: 'https://evil.example', aud: 'httpbin' })), 'Jwt issuer is not configured');
  t.is(await check('not-a-jwt'), 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections');
  // The default locations also read ?access_token=.
  const q = await authn.authenticate([], `x=1&access_token=${await sign(k.privateKey, 'k1', {}, { aud: 'httpbin' })}`);
  t.is(q.kind, 'verified');
});

test('jwt_authn: a JWKS from a real local HTTP server, fetched once (not per request)', async (t) => {
  const k = await keys('served');
  let fetches = 0;
  const server = createServer((_req, res) => {
    fetches++;
    res.setHeader('content-type', 'application/json');
    res.end(k.jwks);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  const authn = new JwtAuthn([provider({ jwksUri: uri })]);
  for (let i = 0; i < 3; i++) {
    const out = await authn.authenticate(['authorization', `Bearer ${await sign(k.privateKey, 'served')}`], '');
    t.is(out.kind, 'verified');
  }
  t.is(fetches, 1);
});

test('jwt_authn: an exception thrown by what runs after verification goes to the failure callback, not to an unhandled rejection that would end the worker', async (t) => {
  const k = await keys('k1');
  const authz = new HttpAuthorization({ jwtProviders: [provider({ jwks: k.jwks })] } as Authorization);
  const input = { headers: ['authorization', `Bearer ${await sign(k.privateKey, 'k1')}`] } as AuthzInput;
  const failure = await new Promise<unknown>((resolve) => {
    authz.check(input, '', undefined as unknown as StatsWriter, undefined, () => {
      throw new Error('routing bug');
    }, resolve);
  });
  t.is((failure as Error).message, 'routing bug');
});
