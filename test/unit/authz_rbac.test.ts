/**
 * AuthorizationPolicy (issue 12 item 4): translation as istiod scopes and orders policies, and
 * evaluation of the compiled RBAC rules. Cases follow Istio's documentation (concepts/security,
 * reference/config/security/authorization-policy and conditions, the authz tasks).
 */
import test from 'ava';
import { compiledRbac } from '../../src/filters/http/rbac/engine.js';
import type { AuthzInput } from '../../src/filters/http/rbac/attributes.js';
import { TCP_PROXY, HTTP_CONNECTION_MANAGER, type Listener, type RbacRules } from '../../src/config/model.js';
import { tempDir, translateFiles, write } from './config_helpers.js';

function policy(name: string, spec: Record<string, unknown>, ns = 'default', apiVersion = 'security.istio.io/v1'): string {
  return `apiVersion: ${apiVersion}\nkind: AuthorizationPolicy\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec: ${JSON.stringify(spec)}\n---\n`;
}

function translatePolicies(yaml: string, opts: { namespace?: string; labels?: Record<string, string>; role?: 'sidecar' | 'router' } = {}) {
  const dir = tempDir('legate-authz-');
  return translateFiles([write(dir, 'p.yaml', yaml)], opts);
}

const inbound = (listeners: Listener[]) => listeners.find((l) => l.name === 'virtualInbound')!;

function httpRules(yaml: string, opts: Parameters<typeof translatePolicies>[1] = {}): RbacRules[] | undefined {
  const t = translatePolicies(yaml, opts);
  const errors = t.lines.filter((l) => !l.includes('warning'));
  if (errors.length) throw new Error(errors.join('\n'));
  const chain = inbound(t.listeners).filterChains.find((c) => c.name === 'virtualInbound-catchall-http')!;
  const f = chain.filters[0];
  if (f.name !== HTTP_CONNECTION_MANAGER) throw new Error('not an HCM');
  return f.authorization?.rbac;
}

function tcpRules(yaml: string): RbacRules[] | undefined {
  // The plaintext TCP chain (PERMISSIVE, Istio's default: virtualInbound has no default chain).
  const vi = inbound(translatePolicies(yaml).listeners);
  const chain = vi.filterChains.find((c) => c.filters[0].name === TCP_PROXY && c.match.transportProtocol === 'raw_buffer') ?? vi.defaultFilterChain!;
  const f = chain.filters[0];
  if (f.name !== TCP_PROXY) throw new Error('not tcp_proxy');
  return f.rbac;
}

const base: AuthzInput = { sourceIp: '10.1.2.3', remoteIp: '10.1.2.3', destinationIp: '10.0.0.5', destinationPort: 8080, host: 'httpbin.foo:8000', method: 'GET', path: '/', headers: [] };

/** undefined: allowed; otherwise the details of the deny. */
function decide(rules: RbacRules[] | undefined, req: Partial<AuthzInput>): string | undefined {
  if (!rules) return undefined;
  const v = compiledRbac(rules).evaluate({ ...base, ...req });
  return v.allowed ? undefined : v.details;
}

const denied = (p: string) => `rbac_access_denied_matched_policy[${p}]`;
const NONE = denied('none');
const sleep = 'spiffe://cluster.local/ns/default/sa/sleep';

interface Case {
  name: string;
  policies: string;
  requests: [Partial<AuthzInput>, string | undefined][];
}

const CASES: Case[] = [
  { name: 'no policy: everything allowed', policies: '', requests: [[{}, undefined]] },
  { name: 'allow-nothing: an ALLOW policy without rules denies everything', policies: policy('allow-nothing', { action: 'ALLOW' }), requests: [[{}, NONE]] },
  { name: 'deny-all: a DENY policy with an empty rule denies everything', policies: policy('deny-all', { action: 'DENY', rules: [{}] }), requests: [[{}, denied('ns[default]-policy[deny-all]-rule[0]')]] },
  { name: 'a DENY policy without rules denies nothing', policies: policy('deny-none', { action: 'DENY' }), requests: [[{}, undefined]] },
  { name: 'allow-all', policies: policy('allow-all', { rules: [{}] }), requests: [[{ method: 'DELETE' }, undefined]] },
  {
    name: 'DENY is evaluated before ALLOW',
    policies: policy('allow-all', { rules: [{}] }) + policy('deny-admin', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] }),
    requests: [
      [{ path: '/admin/users' }, denied('ns[default]-policy[deny-admin]-rule[0]')],
      [{ path: '/public' }, undefined],
    ],
  },
  {
    name: 'methods: allow-read allows GET and HEAD',
    policies: policy('allow-read', { action: 'ALLOW', rules: [{ to: [{ operation: { methods: ['GET', 'HEAD'] } }] }] }),
    requests: [
      [{ method: 'GET' }, undefined],
      [{ method: 'HEAD' }, undefined],
      [{ method: 'POST' }, NONE],
      [{ method: 'get' }, NONE],
    ],
  },
  {
    name: 'paths: prefix /test/* and suffix */info',
    policies: policy('tester', { rules: [{ to: [{ operation: { paths: ['/test/*', '*/info'] } }] }] }),
    requests: [
      [{ path: '/test/a/b' }, undefined],
      [{ path: '/productpage/info' }, undefined],
      [{ path: '/test' }, NONE],
      [{ path: '/other' }, NONE],
    ],
  },
  {
    name: 'notPaths with requestPrincipals: JWT required except on /healthz',
    policies: policy('disable-jwt-for-healthz', { rules: [{ to: [{ operation: { notPaths: ['/healthz'] } }], from: [{ source: { requestPrincipals: ['*'] } }] }] }) + policy('healthz', { rules: [{ to: [{ operation: { paths: ['/healthz'] } }] }] }),
    requests: [
      [{ path: '/healthz' }, undefined],
      [{ path: '/data' }, NONE],
      [{ path: '/data', identity: { principal: 'https://issuer/alice', claims: {}, audiences: [] } }, undefined],
    ],
  },
  {
    name: 'DENY /admin without request principal',
    policies: policy('enable-jwt-for-admin', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin'] } }], from: [{ source: { notRequestPrincipals: ['*'] } }] }] }),
    requests: [
      [{ path: '/admin' }, denied('ns[default]-policy[enable-jwt-for-admin]-rule[0]')],
      [{ path: '/admin', identity: { principal: 'iss/sub', claims: {}, audiences: [] } }, undefined],
      [{ path: '/other' }, undefined],
    ],
  },
  {
    name: 'principals (the URI SAN without spiffe://) or namespaces, and GET, and a JWT claim',
    policies: policy('httpbin', {
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/sleep'] } }, { source: { namespaces: ['dev'] } }], to: [{ operation: { methods: ['GET'] } }], when: [{ key: 'request.auth.claims[iss]', values: ['https://accounts.google.com'] }] }],
    }),
    requests: [
      [{ peerPrincipal: sleep, identity: { principal: 'x', claims: { iss: 'https://accounts.google.com' }, audiences: [] } }, undefined],
      [{ peerPrincipal: 'spiffe://cluster.local/ns/dev/sa/anyone', identity: { principal: 'x', claims: { iss: 'https://accounts.google.com' }, audiences: [] } }, undefined],
      [{ peerPrincipal: sleep }, NONE],
      [{ peerPrincipal: 'spiffe://cluster.local/ns/prod/sa/sleep', identity: { principal: 'x', claims: { iss: 'https://accounts.google.com' }, audiences: [] } }, NONE],
      [{ peerPrincipal: sleep, method: 'POST', identity: { principal: 'x', claims: { iss: 'https://accounts.google.com' }, audiences: [] } }, NONE],
    ],
  },
  {
    name: 'notNamespaces DENY: plaintext (no identity) is denied too',
    policies: policy('httpbin-deny', { action: 'DENY', rules: [{ from: [{ source: { notNamespaces: ['foo'] } }] }] }),
    requests: [
      [{ peerPrincipal: 'spiffe://cluster.local/ns/foo/sa/a' }, undefined],
      [{ peerPrincipal: 'spiffe://cluster.local/ns/bar/sa/a' }, denied('ns[default]-policy[httpbin-deny]-rule[0]')],
      [{}, denied('ns[default]-policy[httpbin-deny]-rule[0]')],
    ],
  },
  {
    name: 'principals ["*"]: any authenticated peer',
    policies: policy('authn', { rules: [{ from: [{ source: { principals: ['*'] } }] }] }),
    requests: [
      [{ peerPrincipal: sleep }, undefined],
      [{}, NONE],
    ],
  },
  {
    name: 'ipBlocks and notIpBlocks (CIDR and single address)',
    policies: policy('ips', { rules: [{ from: [{ source: { ipBlocks: ['10.0.0.0/8', '192.168.1.7'], notIpBlocks: ['10.9.0.0/16'] } }] }] }),
    requests: [
      [{ sourceIp: '10.1.2.3' }, undefined],
      [{ sourceIp: '::ffff:10.1.2.3' }, undefined],
      [{ sourceIp: '192.168.1.7' }, undefined],
      [{ sourceIp: '192.168.1.8' }, NONE],
      [{ sourceIp: '10.9.1.1' }, NONE],
    ],
  },
  {
    name: 'remoteIpBlocks read remote.ip',
    policies: policy('remote', { action: 'DENY', rules: [{ from: [{ source: { remoteIpBlocks: ['172.16.0.0/12'] } }] }] }),
    requests: [
      [{ remoteIp: '172.17.0.1' }, denied('ns[default]-policy[remote]-rule[0]')],
      [{ remoteIp: '10.0.0.1' }, undefined],
    ],
  },
  {
    name: 'when request.headers[version] in v1, v2',
    policies: policy('version', { rules: [{ when: [{ key: 'request.headers[version]', values: ['v1', 'v2'] }] }] }),
    requests: [
      [{ headers: ['version', 'v1'] }, undefined],
      [{ headers: ['version', 'v3'] }, NONE],
      [{ headers: [] }, NONE],
    ],
  },
  {
    name: 'when notValues: absent header passes notValues',
    policies: policy('nv', { action: 'DENY', rules: [{ when: [{ key: 'request.headers[x-token]', notValues: ['secret'] }] }] }),
    requests: [
      [{ headers: ['x-token', 'secret'] }, undefined],
      [{ headers: ['x-token', 'guess'] }, denied('ns[default]-policy[nv]-rule[0]')],
      [{ headers: [] }, denied('ns[default]-policy[nv]-rule[0]')],
    ],
  },
  {
    name: 'ports and notPorts (the destination port)',
    policies: policy('port', { rules: [{ to: [{ operation: { ports: ['8080', '9000'], notPorts: ['9000'] } }] }] }),
    requests: [
      [{ destinationPort: 8080 }, undefined],
      [{ destinationPort: 9000 }, NONE],
      [{ destinationPort: 81 }, NONE],
    ],
  },
  {
    name: 'hosts: case-insensitive, suffix form, any port when none is written',
    policies: policy('hosts', { rules: [{ to: [{ operation: { hosts: ['*.example.com', 'Bookinfo.local'] } }] }] }),
    requests: [
      [{ host: 'api.EXAMPLE.com' }, undefined],
      [{ host: 'bookinfo.local:9080' }, undefined],
      [{ host: 'example.org' }, NONE],
    ],
  },
  {
    name: 'when source.ip, destination.ip, destination.port, connection.sni, source.principal, source.namespace',
    policies: policy('conds', {
      rules: [
        {
          when: [
            { key: 'source.ip', values: ['10.0.0.0/8'] },
            { key: 'destination.ip', values: ['10.0.0.5'] },
            { key: 'destination.port', values: ['8080'] },
            { key: 'connection.sni', values: ['*.svc.cluster.local'] },
            { key: 'source.principal', values: ['cluster.local/ns/default/*'] },
            { key: 'source.namespace', values: ['default'] },
          ],
        },
      ],
    }),
    requests: [
      [{ peerPrincipal: sleep, sni: 'httpbin.foo.svc.cluster.local' }, undefined],
      [{ peerPrincipal: sleep, sni: 'httpbin.foo.svc.cluster.local', destinationPort: 8081 }, NONE],
      [{ peerPrincipal: sleep }, NONE],
      [{ sni: 'httpbin.foo.svc.cluster.local' }, NONE],
    ],
  },
  {
    name: 'JWT: request.auth.principal, audiences, presenter and nested / list claims',
    policies: policy('jwt', {
      rules: [
        {
          from: [{ source: { requestPrincipals: ['https://issuer.example/*'] } }],
          when: [
            { key: 'request.auth.claims[groups]', values: ['admins'] },
            { key: 'request.auth.claims[realm][role]', values: ['ops'] },
            { key: 'request.auth.audiences', values: ['httpbin'] },
            { key: 'request.auth.presenter', notValues: ['evil'] },
          ],
        },
      ],
    }),
    requests: [
      [{ identity: { principal: 'https://issuer.example/alice', claims: { groups: ['dev', 'admins'], realm: { role: 'ops' } }, audiences: ['x', 'httpbin'], presenter: 'web' } }, undefined],
      [{ identity: { principal: 'https://issuer.example/alice', claims: { groups: ['dev'], realm: { role: 'ops' } }, audiences: ['httpbin'] } }, NONE],
      [{ identity: { principal: 'https://issuer.example/alice', claims: { groups: 'admins', realm: { role: 'ops' } }, audiences: ['httpbin'], presenter: 'evil' } }, NONE],
      [{ identity: { principal: 'https://other/alice', claims: { groups: 'admins', realm: { role: 'ops' } }, audiences: ['httpbin'] } }, NONE],
      [{}, NONE],
    ],
  },
  {
    name: 'AUDIT never decides',
    policies: policy('audit', { action: 'AUDIT', rules: [{}] }),
    requests: [[{}, undefined]],
  },
  {
    name: 'CUSTOM without a provider Legate can call: the requests its rules match are denied (as istiod does)',
    policies: policy('ext', { action: 'CUSTOM', provider: { name: 'opa' }, rules: [{ to: [{ operation: { paths: ['/secure*'] } }] }] }),
    requests: [
      [{ path: '/secure/x' }, denied('ns[default]-policy[ext]-rule[0]')],
      [{ path: '/open' }, undefined],
    ],
  },
  {
    name: 'several ALLOW policies: any of them allows',
    policies: policy('a', { rules: [{ to: [{ operation: { methods: ['GET'] } }] }] }) + policy('b', { rules: [{ to: [{ operation: { paths: ['/upload'] } }] }] }, 'default', 'security.istio.io/v1beta1'),
    requests: [
      [{ method: 'GET' }, undefined],
      [{ method: 'POST', path: '/upload' }, undefined],
      [{ method: 'POST', path: '/x' }, NONE],
    ],
  },
];

for (const c of CASES) {
  test(`rbac: ${c.name}`, (t) => {
    const rules = httpRules(c.policies);
    for (const [req, expected] of c.requests) t.is(decide(rules, req), expected, JSON.stringify(req));
  });
}

test('scope: own namespace and the root namespace apply; other namespaces and non-matching selectors do not', (t) => {
  const yaml =
    policy('mesh-wide', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/mesh'] } }] }] }, 'istio-system') +
    policy('other-ns', { action: 'DENY', rules: [{}] }, 'other') +
    policy('for-reviews', { action: 'DENY', selector: { matchLabels: { app: 'reviews' } }, rules: [{ to: [{ operation: { paths: ['/reviews'] } }] }] }) +
    policy('for-ratings', { action: 'DENY', selector: { matchLabels: { app: 'ratings' } }, rules: [{}] });
  const rules = httpRules(yaml, { labels: { app: 'reviews', version: 'v1' } });
  t.deepEqual(rules?.flatMap((r) => r.policies.map((p) => p.name)).sort(), ['ns[default]-policy[for-reviews]-rule[0]', 'ns[istio-system]-policy[mesh-wide]-rule[0]']);
  t.is(decide(rules, { path: '/mesh' }), denied('ns[istio-system]-policy[mesh-wide]-rule[0]'));
  t.is(decide(rules, { path: '/reviews' }), denied('ns[default]-policy[for-reviews]-rule[0]'));
  t.is(decide(rules, { path: '/x' }), undefined);
  // A root-namespace policy with a selector applies to matching workloads in every namespace.
  const selected = httpRules(policy('root-sel', { action: 'DENY', selector: { matchLabels: { app: 'reviews' } }, rules: [{}] }, 'istio-system'), { namespace: 'shop', labels: { app: 'reviews' } });
  t.is(decide(selected, {}), denied('ns[istio-system]-policy[root-sel]-rule[0]'));
});

test('targetRef policies are ignored on a sidecar, with a warning', (t) => {
  const t1 = translatePolicies(policy('gw', { targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'gw' }], action: 'DENY', rules: [{}] }));
  t.true(t1.lines.some((l) => l.includes('warning') && l.includes('spec.targetRefs') && l.includes('ignored')), t1.lines.join('\n'));
  const chain = inbound(t1.listeners).filterChains.find((c) => c.name === 'virtualInbound-catchall-http')!;
  t.is((chain.filters[0] as { authorization?: unknown }).authorization, undefined);
});

test('validation: one line per problem, with the field path', (t) => {
  const bad =
    policy('bad', {
      action: 'MAYBE',
      rules: [
        { from: [{ source: { ipBlocks: ['10.0.0.0/33'] } }, { source: {} }], to: [{ operation: { ports: ['http'], paths: ['/a*b'] } }], when: [{ key: 'request.bogus', values: ['x'] }, { key: 'source.ip' }] },
      ],
    }) + policy('custom', { action: 'CUSTOM' });
  const lines = translatePolicies(bad).lines;
  const has = (s: string) => t.true(lines.some((l) => l.includes(s)), `${s}\n${lines.join('\n')}`);
  has('spec.action: invalid action "MAYBE"');
  has('spec.rules[0].from[0].source.ipBlocks[0]: invalid prefix length');
  has('spec.rules[0].from[1].source: source must not be empty');
  has('spec.rules[0].to[0].operation.ports[0]: invalid port "http"');
  has('spec.rules[0].to[0].operation.paths[0]: paths: "*" is allowed only at the start or the end');
  has('spec.rules[0].when[0].key: unknown condition key "request.bogus"');
  has('spec.rules[0].when[1]: a condition needs values or notValues');
  has('AuthorizationPolicy/default/custom: spec.provider: a CUSTOM policy needs provider.name');
});

test('TCP: an ALLOW rule with HTTP-only fields is dropped (allows nothing); in DENY they are ignored (denies more)', (t) => {
  const allowGet = tcpRules(policy('allow-get', { rules: [{ to: [{ operation: { methods: ['GET'] } }] }] }));
  t.deepEqual(allowGet, [{ action: 'ALLOW', policies: [] }]);
  t.is(decide(allowGet, {}), NONE);
  const allowPort = tcpRules(policy('allow-port', { rules: [{ to: [{ operation: { ports: ['9000'] } }] }, { to: [{ operation: { paths: ['/x'] } }] }] }));
  t.is(decide(allowPort, { destinationPort: 9000 }), undefined);
  t.is(decide(allowPort, { destinationPort: 9001 }), NONE);
  const denyPath = tcpRules(policy('deny-path', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin'], ports: ['9000'] } }], when: [{ key: 'request.headers[x]', values: ['y'] }] }] }));
  t.is(decide(denyPath, { destinationPort: 9000 }), denied('ns[default]-policy[deny-path]-rule[0]'));
  t.is(decide(denyPath, { destinationPort: 9001 }), undefined);
});

test('outbound listeners carry no policy; HTTP and TCP inbound chains both do; loop guards do not', (t) => {
  const tr = translatePolicies(policy('deny-all', { action: 'DENY', rules: [{}] }));
  for (const l of tr.listeners.filter((x) => x.name !== 'virtualInbound')) {
    for (const c of [...l.filterChains, ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])]) {
      for (const f of c.filters) t.false('rbac' in f || 'authorization' in f, `${l.name}/${c.name}`);
    }
  }
  const vi = inbound(tr.listeners);
  for (const c of [...vi.filterChains, ...(vi.defaultFilterChain ? [vi.defaultFilterChain] : [])]) {
    const f = c.filters[0] as { rbac?: unknown; authorization?: unknown };
    if (c.name.endsWith('-blackhole')) t.is(f.rbac, undefined);
    else t.truthy(f.rbac ?? f.authorization, c.name);
  }
});

test('gateway (router role): every chain gets the policies', (t) => {
  const gw = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: ["*"]
---
`;
  const tr = translatePolicies(gw + policy('gw-deny', { action: 'DENY', selector: { matchLabels: { istio: 'ingressgateway' } }, rules: [{ to: [{ operation: { paths: ['/private*'] } }] }] }, 'istio-system'), {
    role: 'router',
    namespace: 'istio-system',
    labels: { istio: 'ingressgateway' },
  });
  const hcm = tr.listeners.flatMap((l) => l.filterChains).map((c) => c.filters[0]).find((f) => f.name === HTTP_CONNECTION_MANAGER);
  t.is(hcm && 'authorization' in hcm ? hcm.authorization?.rbac?.[0].policies[0].name : undefined, 'ns[istio-system]-policy[gw-deny]-rule[0]');
});
