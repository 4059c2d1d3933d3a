/**
 * istiod's authorization over xDS: Envoy's RBAC (HTTP and network) and jwt_authn filters, shaped
 * as istiod writes them for AuthorizationPolicy / RequestAuthentication, converted and enforced.
 */
import test from 'ava';
import { convertListener } from '../../src/xds/convert/listener.js';
import { ConversionReport } from '../../src/xds/convert/report.js';
import { fromEnvoyJson } from '../../src/xds/proto_json.js';
import { DECODE_OPTIONS, messageType } from '../../src/xds/protos.js';
import { compiledRbac } from '../../src/filters/http/rbac/engine.js';
import type { AuthzInput } from '../../src/filters/http/rbac/attributes.js';
import { HTTP_CONNECTION_MANAGER, TCP_PROXY, type Listener } from '../../src/config/model.js';

function overTheWire(json: any): any {
  const t = messageType('envoy.config.listener.v3.Listener');
  const { '@type': _type, ...fields } = fromEnvoyJson('envoy.config.listener.v3.Listener', json);
  return t.toObject(t.decode(t.encode(t.fromObject(fields)).finish()), DECODE_OPTIONS);
}

const RBAC_HTTP = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const and = (rules: unknown[]) => ({ and_rules: { rules } });
const or = (rules: unknown[]) => ({ or_rules: { rules } });
const ids = (i: unknown[]) => ({ and_ids: { ids: i } });
const orIds = (i: unknown[]) => ({ or_ids: { ids: i } });

const denyAdmin = { rules: { action: 'DENY', policies: { 'ns[foo]-policy[deny-admin]-rule[0]': { permissions: [and([or([{ url_path: { path: { prefix: '/admin' } } }])])], principals: [ids([{ any: true }])] } } } };
const allow = {
  rules: {
    action: 'ALLOW',
    policies: {
      'ns[foo]-policy[allow-sleep-get]-rule[0]': {
        permissions: [and([or([{ header: { name: ':method', string_match: { exact: 'GET' } } }])])],
        principals: [ids([orIds([{ authenticated: { principal_name: { exact: 'spiffe://cluster.local/ns/default/sa/sleep' } } }])])],
      },
      'ns[foo]-policy[allow-dev]-rule[0]': { permissions: [and([{ any: true }])], principals: [ids([orIds([{ authenticated: { principal_name: { safe_regex: { regex: '.*/ns/dev/.*' } } } }])])] },
      'ns[foo]-policy[allow-jwt]-rule[0]': {
        permissions: [and([or([{ destination_port: 8080 }]), { not_rule: or([{ url_path: { path: { exact: '/private' } } }]) }])],
        principals: [ids([orIds([{ metadata: { filter: 'istio_authn', path: [{ key: 'request.auth.principal' }], value: { string_match: { prefix: 'https://issuer.example/' } } } }]), orIds([{ metadata: { filter: 'istio_authn', path: [{ key: 'request.auth.claims' }, { key: 'groups' }], value: { list_match: { one_of: { string_match: { exact: 'admins' } } } } } }])])],
      },
    },
  },
};
const jwt = {
  '@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
  providers: { 'origins-0': { issuer: 'https://issuer.example', local_jwks: { inline_string: '{"keys":[]}' }, forward: true, payload_in_metadata: 'https://issuer.example' } },
  rules: [{ match: { prefix: '/' }, requires: { requires_any: { requirements: [{ provider_name: 'origins-0' }, { allow_missing: {} }] } } }],
};

function listener(httpFilters: unknown[], tcpRbac?: unknown): any {
  return {
    name: 'virtualInbound',
    address: { socket_address: { address: '0.0.0.0', port_value: 15006 } },
    filter_chains: [
      {
        name: 'inbound-http',
        filter_chain_match: { destination_port: 8080 },
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              stat_prefix: 'inbound_0.0.0.0_8080',
              route_config: { name: 'inbound|8080||', virtual_hosts: [{ name: 'x', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'inbound|8080||' } }] }] },
              http_filters: [...httpFilters, { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
            },
          },
        ],
      },
      {
        name: 'inbound-tcp',
        filter_chain_match: { destination_port: 9000 },
        filters: [
          ...(tcpRbac ? [{ name: 'envoy.filters.network.rbac', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC', stat_prefix: 'tcp.', ...(tcpRbac as object) } }] : []),
          { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', stat_prefix: 'inbound|9000||', cluster: 'inbound|9000||' } },
        ],
      },
    ],
  };
}

const base: AuthzInput = { sourceIp: '10.0.0.9', remoteIp: '10.0.0.9', destinationIp: '10.0.0.5', destinationPort: 8080, host: 'svc', method: 'GET', path: '/', headers: [] };

test("istiod's RBAC and jwt_authn filters become the chain's authorization and are enforced", (t) => {
  const rbacFilter = (cfg: object) => ({ name: 'envoy.filters.http.rbac', typed_config: { '@type': RBAC_HTTP, ...cfg } });
  const l: Listener = convertListener(overTheWire(listener([{ name: 'envoy.filters.http.jwt_authn', typed_config: jwt }, { name: 'istio_authn', typed_config: { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'type.googleapis.com/io.istio.authn.FilterConfig' } }, rbacFilter(denyAdmin), rbacFilter(allow)], { rules: { action: 'DENY', policies: { 'ns[foo]-policy[deny-9000]-rule[0]': { permissions: [{ destination_port: 9000 }], principals: [{ any: true }] } } } })), new ConversionReport()).listener!;
  const hcm = l.filterChains[0].filters[0];
  if (hcm.name !== HTTP_CONNECTION_MANAGER) return t.fail();
  t.deepEqual(hcm.authorization?.jwtProviders?.map((p) => [p.issuer, p.jwks, p.forwardOriginalToken]), [['https://issuer.example', '{"keys":[]}', true]]);
  const rules = hcm.authorization!.rbac!;
  t.deepEqual(rules.map((r) => r.action), ['DENY', 'ALLOW']);
  const decide = (req: Partial<AuthzInput>) => {
    const v = compiledRbac(rules).evaluate({ ...base, ...req });
    return v.allowed ? 'allowed' : v.details;
  };
  const sleep = 'spiffe://cluster.local/ns/default/sa/sleep';
  t.is(decide({ peerPrincipal: sleep }), 'allowed');
  t.is(decide({ peerPrincipal: sleep, method: 'POST' }), 'rbac_access_denied_matched_policy[none]');
  t.is(decide({ peerPrincipal: sleep, path: '/admin/x' }), 'rbac_access_denied_matched_policy[ns[foo]-policy[deny-admin]-rule[0]]');
  t.is(decide({ peerPrincipal: 'spiffe://cluster.local/ns/dev/sa/any', method: 'DELETE' }), 'allowed');
  t.is(decide({}), 'rbac_access_denied_matched_policy[none]');
  const alice = { principal: 'https://issuer.example/alice', claims: { groups: ['dev', 'admins'] }, audiences: [] };
  t.is(decide({ identity: alice, method: 'PUT' }), 'allowed');
  t.is(decide({ identity: alice, path: '/private' }), 'rbac_access_denied_matched_policy[none]');
  t.is(decide({ identity: { ...alice, claims: { groups: ['dev'] } } }), 'rbac_access_denied_matched_policy[none]');

  const tcp = l.filterChains[1].filters[0];
  if (tcp.name !== TCP_PROXY) return t.fail();
  const v = compiledRbac(tcp.rbac!).evaluate({ ...base, destinationPort: 9000 });
  t.deepEqual([v.allowed, v.details], [false, 'rbac_access_denied_matched_policy[ns[foo]-policy[deny-9000]-rule[0]]']);
});

test('an RBAC matcher Legate cannot evaluate rejects the configuration (never allows or denies by accident)', (t) => {
  const bad = { rules: { action: 'DENY', policies: { p: { permissions: [{ any: true }], principals: [{ filter_state: { key: 'some.other.key', string_match: { exact: 'v' } } }] } } } };
  const err = t.throws(() => convertListener(overTheWire(listener([{ name: 'envoy.filters.http.rbac', typed_config: { '@type': RBAC_HTTP, ...bad } }])), new ConversionReport()));
  t.regex(err!.message, /filter_state matcher "some.other.key" is not supported/);
});

test("istiod's CUSTOM (ext_authz) marking rules become DENY: what would go to the external authorizer is denied, not let through", (t) => {
  const marking = {
    shadow_rules: { action: 'DENY', policies: { 'istio-ext-authz-ns[foo]-policy[ext]-rule[0]': { permissions: [or([{ url_path: { path: { prefix: '/secure' } } }])], principals: [{ any: true }] } } },
    shadow_rules_stat_prefix: 'istio_ext_authz_',
  };
  const extAuthz = { name: 'envoy.filters.http.ext_authz', typed_config: { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz' } };
  const report = new ConversionReport();
  const l = convertListener(overTheWire(listener([{ name: 'envoy.filters.http.rbac', typed_config: { '@type': RBAC_HTTP, ...marking } }, extAuthz])), report).listener!;
  const hcm = l.filterChains[0].filters[0];
  if (hcm.name !== HTTP_CONNECTION_MANAGER) return t.fail();
  const rbac = compiledRbac(hcm.authorization!.rbac!);
  t.is(rbac.evaluate({ ...base, path: '/secure/x' }).details, 'rbac_access_denied_matched_policy[istio-ext-authz-ns[foo]-policy[ext]-rule[0]]');
  t.true(rbac.evaluate({ ...base, path: '/open' }).allowed);
  t.true(report.notes.has('rbac.ext_authz'));
});
