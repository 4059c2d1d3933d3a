import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { validatePaths } from '../../src/config/validate_command.js';
import { re2Error } from '../../src/config/validate/regex.js';
import { parseIstioDuration } from '../../src/config/validate/values.js';
import { fixture, rel } from './config_helpers.js';
import { translateYaml } from '../support/translate.js';

const BIN = join(process.cwd(), 'bin', 'legate.js');
const F = 'test/fixtures/config/invalid/errors.yaml';

test('validation: one line per problem, with file:line, resource and field path', (t) => {
  const lines = validatePaths([fixture('invalid')]).map(rel);
  t.deepEqual(lines, [
    `${F}:9: ServiceEntry/shop/bad-entry: spec.hosts[0]: invalid host "bad_host!" (DNS labels of letters, digits and '-')`,
    `${F}:11: ServiceEntry/shop/bad-entry: spec.ports[0].number: invalid port 70000 (1–65535)`,
    `${F}:13: ServiceEntry/shop/bad-entry: spec.resolution: must be one of NONE, STATIC, DNS, DNS_ROUND_ROBIN; got "STATIK"`,
    `${F}:23: warning: VirtualService/shop/cart: spec.htp: unknown field "htp": ignored`,
    `${F}:27: VirtualService/shop/cart: spec.http[0].match[0].uri.regex: lookahead/lookbehind assertions are not supported by RE2`,
    `${F}:30: VirtualService/shop/cart: spec.http[0].match[1].headers.x-session.regex: backreferences are not supported by RE2`,
    `${F}:32: VirtualService/shop/cart: spec.http[0].route: total destination weight 90 != 100`,
    `${F}:40: VirtualService/shop/cart: spec.http[0].timeout: expected a string, got number 10`,
    `${F}:43: VirtualService/shop/cart: spec.http[0].retries.perTryTimeout: invalid duration "2x" (expected e.g. "10s", "250ms", "1h")`,
    `${F}:44: VirtualService/shop/cart: spec.http[0].retries.retryOn: sometimes is not a valid retryOn policy`,
    `${F}:45: VirtualService/shop/cart: spec.http[1]: HTTP route cannot contain both fault and redirect`,
    `${F}:47: VirtualService/shop/cart: spec.http[1].fault.abort.httpStatus: httpStatus 700 must be in range 200..599`,
    `${F}:51: warning: VirtualService/shop/cart: spec.http[2].delegate: VirtualService delegation (delegate) is not implemented: ignored`,
    `${F}:62: DestinationRule/shop/cart: spec.trafficPolicy.loadBalancer.simple: unknown load balancer "FASTEST" (UNSPECIFIED, LEAST_CONN, RANDOM, PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST)`,
    `${F}:64: DestinationRule/shop/cart: spec.trafficPolicy.outlierDetection.interval: duration 500us must be at least 1ms`,
    `${F}:65: DestinationRule/shop/cart: spec.trafficPolicy.outlierDetection.maxEjectionPercent: maxEjectionPercent must be at most 100, got 120`,
    `${F}:70: DestinationRule/shop/cart: spec.subsets[1].name: duplicate subset name v1`,
    `${F}:82: ConfigMap/istio-system/istio: data.mesh.outboundTrafficPolicy.mode: must be ALLOW_ANY or REGISTRY_ONLY, got "SOMETIMES"`,
    `${F}:83: ConfigMap/istio-system/istio: data.mesh.connectTimeout: invalid duration "fast" (expected e.g. "10s", "250ms", "1h")`,
    `${F}:96: warning: VirtualService/shop/cart-canary: spec.http[0].route[0].destination.host: host cart.shop.svc.cluster.local is not defined by any ServiceEntry: requests to it get no healthy upstream`,
    `${F}:97: VirtualService/shop/cart-canary: spec.http[0].route[0].destination.subset: subset v9 of cart.shop.svc.cluster.local is not defined by any DestinationRule`,
  ]);
});

test('legate validate: exit 1 with errors on stdout, warnings on stderr', (t) => {
  const r = spawnSync(process.execPath, [BIN, 'validate', fixture('invalid')], { encoding: 'utf8' });
  t.is(r.status, 1);
  const out = r.stdout.trim().split('\n');
  t.is(out.length, 18);
  t.true(out.every((l) => /^\S+:\d+: \w+\/[\w-]+\/[\w-]+: [\w.[\]-]+: .+/.test(l)), out.join('\n'));
  t.regex(r.stderr, /warning: VirtualService\/shop\/cart: spec\.htp: unknown field "htp"/);
});

test("Istio's samples load without errors (bookinfo, ratings abort, the reference docs' examples)", (t) => {
  const sets = [[fixture('bookinfo')], [fixture('bookinfo', 'services.yaml'), fixture('bookinfo', 'destination-rule-all.yaml'), fixture('ratings-abort')], [fixture('istio-docs')]];
  for (const paths of sets) {
    const out = execFileSync(process.execPath, [BIN, 'validate', ...paths], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    t.is(out, '', paths.join(' '));
  }
});

test('a syntax error in YAML points at its line', (t) => {
  const out = translateYaml('apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: x\nspec:\n  hosts: [a.com\n  ports: []\n');
  t.deepEqual(out.lines, ['inline.yaml:7: YAML: Flow sequence in block collection must be sufficiently indented and end with a ] (column 3)']);
});

test('RE2: lookaround, backreferences, atomic groups and possessive quantifiers are rejected; RE2-only syntax is accepted', (t) => {
  t.regex(re2Error('foo(?=bar)')!, /lookahead/);
  t.regex(re2Error('(?<!x)y')!, /lookahead\/lookbehind/);
  t.regex(re2Error('(a)\\1')!, /backreferences/);
  t.regex(re2Error('(?<n>a)\\k<n>')!, /backreferences/);
  t.regex(re2Error('(?>a)')!, /atomic/);
  t.regex(re2Error('a++')!, /possessive/);
  t.regex(re2Error('([a-z]')!, /invalid regex/);
  t.is(re2Error('(?P<id>[0-9]+)'), undefined);
  t.is(re2Error('(?i)^/api/v[12]/.*'), undefined);
  t.is(re2Error('[[:alpha:]]+'), undefined);
  t.is(re2Error('^(.*?;)?(user=jason)(;.*)?$'), undefined);
  t.is(re2Error('[(?=]'), undefined, 'inside a character class (?= is literal');
  t.is(re2Error('\\(\\?='), undefined, 'escaped');
});

test("durations follow Istio's rules (>= 1ms, millisecond precision, Go syntax)", (t) => {
  t.deepEqual(parseIstioDuration('10s'), { ms: 10_000 });
  t.deepEqual(parseIstioDuration('1h30m'), { ms: 5_400_000 });
  t.deepEqual(parseIstioDuration('1.5s'), { ms: 1500 });
  t.deepEqual(parseIstioDuration('250ms'), { ms: 250 });
  t.true('error' in parseIstioDuration('0s'));
  t.deepEqual(parseIstioDuration('0s', { allowZero: true }), { ms: 0 });
  t.true('error' in parseIstioDuration('500us'));
  t.true('error' in parseIstioDuration('1500us'));
  t.true('error' in parseIstioDuration('10'));
  t.true('error' in parseIstioDuration('-1s'));
  t.true('error' in parseIstioDuration(10));
});

test('validation: gateway, sidecar and exportTo rules', (t) => {
  const out = translateYaml(`apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns1}
spec:
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["a.example.com"]
  - port: {number: 80, name: https, protocol: HTTP}
    hosts: ["x/y/z"]
    tls: {mode: SIMPLE}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: sc, namespace: ns1}
spec:
  egress:
  - hosts: ["*.example.com"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: ns1}
spec:
  hosts: ["*"]
  exportTo: ["~", "ns2"]
  http:
  - route: [{destination: {host: a.example.com}}]
`);
  const errs = out.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.line} ${d.path}: ${d.message}`);
  t.deepEqual(errs, [
    '6 spec.servers[0].tls: server must have TLS settings for HTTPS/TLS protocols',
    '8 spec.servers[1].port.name: port names in servers must be unique: duplicate name https',
    '9 spec.servers[1].hosts[0]: host "x/y/z" must be dnsName or namespace/dnsName',
    '10 spec.servers[1].tls: server cannot have TLS settings for plain text HTTP ports',
    '17 spec.egress[0].hosts[0]: egress host "*.example.com" must be namespace/dnsName (e.g. "./*", "istio-system/*")',
    '23 spec.hosts[0]: wildcard host * is not allowed for virtual services bound to the mesh gateway',
    '24 spec.exportTo: "~" cannot be combined with other exportTo values',
  ]);
});
