import { list, map, unimpl, type Schema } from './fields.js';

/** The fields of Istio's security.istio.io API (v1 / v1beta1) that Legate reads. */

const selector: Schema = { matchLabels: map('s') };
const targetRef: Schema = { group: 's', kind: 's', name: 's', namespace: 's' };
const strings = list('s');

const source: Schema = {
  principals: strings,
  notPrincipals: strings,
  requestPrincipals: strings,
  notRequestPrincipals: strings,
  namespaces: strings,
  notNamespaces: strings,
  ipBlocks: strings,
  notIpBlocks: strings,
  remoteIpBlocks: strings,
  notRemoteIpBlocks: strings,
  serviceAccounts: unimpl('source.serviceAccounts (ambient only)', strings),
  notServiceAccounts: unimpl('source.notServiceAccounts (ambient only)', strings),
};

const operation: Schema = {
  hosts: strings,
  notHosts: strings,
  ports: strings,
  notPorts: strings,
  methods: strings,
  notMethods: strings,
  paths: strings,
  notPaths: strings,
};

export const authorizationPolicySpec: Schema = {
  selector,
  targetRef,
  targetRefs: list(targetRef),
  action: 's',
  provider: { name: 's' },
  rules: list({
    from: list({ source }),
    to: list({ operation }),
    when: list({ key: 's', values: strings, notValues: strings }),
  }),
};

export const requestAuthenticationSpec: Schema = {
  selector,
  targetRef,
  targetRefs: list(targetRef),
  jwtRules: list({
    issuer: 's',
    audiences: strings,
    jwksUri: 's',
    jwks: 's',
    fromHeaders: list({ name: 's', prefix: 's' }),
    fromParams: strings,
    fromCookies: unimpl('tokens from cookies (fromCookies)', strings),
    outputPayloadToHeader: 's',
    forwardOriginalToken: 'b',
    outputClaimToHeaders: list({ header: 's', claim: 's' }),
    timeout: unimpl('JWKS fetch timeout', 's'),
  }),
};

/** PeerAuthentication (src/config/translate/peer_authentication.ts). */
const peerAuthenticationSpec: Schema = {
  selector,
  mtls: { mode: 's' },
  portLevelMtls: map({ mode: 's' }),
};

export const SECURITY_SPECS: Record<string, Schema> = {
  PeerAuthentication: peerAuthenticationSpec,
  AuthorizationPolicy: authorizationPolicySpec,
  RequestAuthentication: requestAuthenticationSpec,
};
