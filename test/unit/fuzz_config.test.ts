/**
 * Fuzzing the config translator (issue 10, item 5): random Istio documents — generated from
 * the API's field vocabulary, mutated from the fixture corpus, or cut and scrambled as text —
 * must never make the translator throw. Either it reports diagnostics, or its snapshot is one a
 * worker can take: it survives structured cloning (it crosses threads), every bound listener
 * compiles into a ListenerTable, and every HTTP connection manager names a route table that
 * exists. The fixture corpus itself is the seed corpus. `npm run fuzz` runs longer (see
 * docs/reliability.md).
 */
import test from 'ava';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { hasErrors } from '../../src/config/diagnostics.js';
import { ListenerTable } from '../../src/listener/listener_table.js';
import { fuzzParams } from '../support/fuzz.js';
import { snapshotOf, translateYaml } from '../support/translate.js';

const FIXTURES = new URL('../../../test/fixtures/config/', import.meta.url).pathname;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? yamlFiles(p) : p.endsWith('.yaml') ? [p] : [];
  });
}

const seedTexts = yamlFiles(FIXTURES).sort().map((f) => readFileSync(f, 'utf8'));
const seedDocs: unknown[] = seedTexts.flatMap((s) => parseAllDocuments(s).map((d) => d.toJS() as unknown)).filter((d) => d !== null);

/** The property every input must keep. Throws (fails the property) when it does not. */
function checkTranslation(yamlText: string): void {
  const t = translateYaml(yamlText);
  if (hasErrors(t.diagnostics)) return;
  const snap = structuredClone(snapshotOf(t));
  const table = new ListenerTable(snap);
  assert.ok(Array.isArray(table.boundNames()));
  const routeNames = new Set(snap.routes.map((r) => r.name));
  for (const l of snap.listeners) {
    for (const chain of [...l.filterChains, ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])]) {
      for (const f of chain.filters) {
        if ('routeConfigName' in f) assert.ok(routeNames.has(f.routeConfigName), `listener ${l.name} names missing route table ${f.routeConfigName}`);
      }
    }
  }
}

// ---- generated documents --------------------------------------------------------------------

const HOSTS = ['reviews', 'ratings.prod.svc.cluster.local', 'api.example.com', '*.example.com', '*', 'a..b', '', 'UPPER.example', '10.0.0.1', 'constructor', '__proto__'];
const odd = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, -1, 65536, 1.5, '', ' ', '0s', '-1s', '1h', '99999999999', 'x\ny', '*', '[', '{'),
  fc.string({ maxLength: 12 }),
  fc.integer(),
);
const host = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...HOSTS) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) });
const port = fc.record({
  number: fc.oneof(fc.constantFrom(80, 443, 8080, 3306, 0, 70000), odd),
  name: fc.constantFrom('http', 'tcp', 'grpc', 'https', 'http-web', 'tls', 'x'),
  protocol: fc.constantFrom('HTTP', 'TCP', 'HTTPS', 'GRPC', 'TLS', 'HTTP2', 'MONGO', 'bogus', undefined),
  targetPort: fc.option(fc.constantFrom(8080, 0, -5), { nil: undefined }),
}, { requiredKeys: ['number', 'name'] });
const stringMatch = fc.oneof(
  fc.record({ exact: fc.constantFrom('/a', '', '/x y') }),
  fc.record({ prefix: fc.constantFrom('/', '/api', '') }),
  fc.record({ regex: fc.constantFrom('^/v[0-9]+', '(', '.*', '(?=x)') }),
  odd,
);
const destination = fc.record({
  host,
  subset: fc.option(fc.constantFrom('v1', 'v2', 'missing', ''), { nil: undefined }),
  port: fc.option(fc.oneof(fc.record({ number: fc.constantFrom(80, 9080, 0) }), odd), { nil: undefined }),
}, { requiredKeys: ['host'] });
const httpRoute = fc.record({
  name: fc.option(fc.constantFrom('r1', 'r2', ''), { nil: undefined }),
  match: fc.option(fc.array(fc.record({ uri: stringMatch, headers: fc.option(fc.dictionary(fc.constantFrom('x-user', 'Bad Name', ':path'), stringMatch), { nil: undefined }), method: fc.option(stringMatch, { nil: undefined }) }, { requiredKeys: [] }), { maxLength: 3 }), { nil: undefined }),
  route: fc.option(fc.array(fc.record({ destination, weight: fc.option(fc.oneof(fc.integer({ min: -10, max: 120 }), odd), { nil: undefined }) }, { requiredKeys: ['destination'] }), { maxLength: 3 }), { nil: undefined }),
  timeout: fc.option(fc.oneof(fc.constantFrom('1s', '500ms', '0s', 'forever'), odd), { nil: undefined }),
  retries: fc.option(fc.record({ attempts: fc.oneof(fc.integer({ min: -2, max: 10 }), odd), perTryTimeout: fc.option(fc.constantFrom('1s', 'x'), { nil: undefined }), retryOn: fc.option(fc.constantFrom('5xx', 'reset,gateway-error', 'nonsense', ''), { nil: undefined }) }, { requiredKeys: [] }), { nil: undefined }),
  fault: fc.option(fc.record({ abort: fc.option(fc.record({ httpStatus: fc.oneof(fc.constantFrom(503, 0, 999), odd), percentage: fc.record({ value: fc.oneof(fc.double({ min: -10, max: 200, noNaN: true }), odd) }) }), { nil: undefined }), delay: fc.option(fc.record({ fixedDelay: fc.constantFrom('1s', 'x', '0s') }), { nil: undefined }) }, { requiredKeys: [] }), { nil: undefined }),
  redirect: fc.option(fc.record({ uri: fc.constantFrom('/new', ''), redirectCode: fc.option(fc.constantFrom(301, 302, 200), { nil: undefined }) }, { requiredKeys: [] }), { nil: undefined }),
  rewrite: fc.option(fc.record({ uri: fc.constantFrom('/', '/v2', ''), authority: fc.option(host, { nil: undefined }) }, { requiredKeys: [] }), { nil: undefined }),
}, { requiredKeys: [] });

const meta = fc.record({ name: fc.oneof(fc.constantFrom('a', 'b', 'reviews', 'Bad_Name', '', 'constructor'), odd), namespace: fc.option(fc.constantFrom('default', 'prod', 'istio-system', '', '__proto__'), { nil: undefined }) }, { requiredKeys: ['name'] });
const doc = (kind: string, spec: fc.Arbitrary<unknown>, apiVersion = fc.constantFrom('networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3', 'networking.istio.io/v2')) =>
  fc.record({ apiVersion, kind: fc.constant(kind), metadata: meta, spec });

const serviceEntry = doc('ServiceEntry', fc.record({
  hosts: fc.array(host, { maxLength: 3 }),
  addresses: fc.option(fc.array(fc.constantFrom('240.240.0.1', '10.0.0.0/8', '::1', 'nope', '300.1.1.1'), { maxLength: 2 }), { nil: undefined }),
  ports: fc.array(port, { maxLength: 3 }),
  location: fc.option(fc.constantFrom('MESH_EXTERNAL', 'MESH_INTERNAL', 'ELSEWHERE'), { nil: undefined }),
  resolution: fc.option(fc.constantFrom('STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'NONE', 'MAGIC'), { nil: undefined }),
  endpoints: fc.option(fc.array(fc.record({ address: fc.constantFrom('10.1.0.1', 'db.example', 'unix:///sock', ''), ports: fc.option(fc.dictionary(fc.constantFrom('http', 'tcp', 'x', 'constructor', 'toString'), fc.oneof(fc.integer({ min: -1, max: 70000 }), odd)), { nil: undefined }), labels: fc.option(fc.dictionary(fc.constantFrom('version', 'app'), fc.constantFrom('v1', 'v2')), { nil: undefined }), weight: fc.option(fc.oneof(fc.nat(200), odd), { nil: undefined }) }, { requiredKeys: ['address'] }), { maxLength: 3 }), { nil: undefined }),
}, { requiredKeys: ['hosts'] }));
const virtualService = doc('VirtualService', fc.record({
  hosts: fc.array(host, { maxLength: 3 }),
  gateways: fc.option(fc.array(fc.constantFrom('mesh', 'gw', 'istio-system/gw'), { maxLength: 2 }), { nil: undefined }),
  http: fc.option(fc.array(httpRoute, { maxLength: 4 }), { nil: undefined }),
  tcp: fc.option(fc.array(fc.record({ match: fc.option(fc.array(fc.record({ port: fc.oneof(fc.constantFrom(3306, 0), odd) }), { maxLength: 2 }), { nil: undefined }), route: fc.array(fc.record({ destination, weight: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }) }, { requiredKeys: ['destination'] }), { maxLength: 2 }) }, { requiredKeys: ['route'] }), { maxLength: 2 }), { nil: undefined }),
}, { requiredKeys: [] }));
const trafficPolicy = fc.record({
  loadBalancer: fc.option(fc.oneof(fc.record({ simple: fc.constantFrom('ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'PASSTHROUGH', 'BOGUS') }), fc.record({ consistentHash: fc.record({ httpHeaderName: fc.constantFrom('x-user', '') }) }), odd), { nil: undefined }),
  connectionPool: fc.option(fc.record({ tcp: fc.option(fc.record({ maxConnections: fc.oneof(fc.integer({ min: -1, max: 10000 }), odd), connectTimeout: fc.option(fc.constantFrom('1s', 'x'), { nil: undefined }) }, { requiredKeys: [] }), { nil: undefined }), http: fc.option(fc.record({ http1MaxPendingRequests: fc.oneof(fc.integer({ min: -1, max: 100 }), odd) }, { requiredKeys: [] }), { nil: undefined }) }, { requiredKeys: [] }), { nil: undefined }),
  outlierDetection: fc.option(fc.record({ consecutive5xxErrors: fc.oneof(fc.nat(10), odd), interval: fc.constantFrom('1s', '0s', 'x'), baseEjectionTime: fc.constantFrom('30s', 'x'), maxEjectionPercent: fc.oneof(fc.integer({ min: -1, max: 101 }), odd) }, { requiredKeys: [] }), { nil: undefined }),
}, { requiredKeys: [] });
const destinationRule = doc('DestinationRule', fc.record({
  host,
  trafficPolicy: fc.option(trafficPolicy, { nil: undefined }),
  subsets: fc.option(fc.array(fc.record({ name: fc.constantFrom('v1', 'v2', '', 'constructor'), labels: fc.option(fc.dictionary(fc.constantFrom('version', 'app'), fc.constantFrom('v1', 'v2')), { nil: undefined }), trafficPolicy: fc.option(trafficPolicy, { nil: undefined }) }, { requiredKeys: ['name'] }), { maxLength: 3 }), { nil: undefined }),
}, { requiredKeys: ['host'] }));
const meshConfig = fc.record({
  apiVersion: fc.constant('v1'), kind: fc.constant('ConfigMap'), metadata: fc.constant({ name: 'istio', namespace: 'istio-system' }),
  data: fc.record({ mesh: fc.record({ outboundTrafficPolicy: fc.option(fc.record({ mode: fc.constantFrom('ALLOW_ANY', 'REGISTRY_ONLY', 'MAYBE') }), { nil: undefined }), connectTimeout: fc.option(fc.constantFrom('1s', 'x', '0s'), { nil: undefined }), drainDuration: fc.option(fc.oneof(fc.constantFrom('5s', 'x'), odd), { nil: undefined }) }, { requiredKeys: [] }).map((m) => stringify(m)) }),
});
const other = doc('Sidecar', fc.record({ egress: fc.array(fc.record({ hosts: fc.array(fc.constantFrom('./*', 'istio-system/*', '*/*', 'bad'), { maxLength: 2 }) }), { maxLength: 2 }) }, { requiredKeys: [] }));
const anyDoc = fc.oneof(serviceEntry, serviceEntry, virtualService, virtualService, destinationRule, meshConfig, other);

test('fuzz: generated Istio documents never make the translator throw; a clean result is a usable snapshot', (t) => {
  let clean = 0;
  fc.assert(fc.property(fc.array(anyDoc, { minLength: 1, maxLength: 6 }), (docs) => {
    const text = docs.map((d) => stringify(d)).join('---\n');
    checkTranslation(text);
    if (!hasErrors(translateYaml(text).diagnostics)) clean++;
  }), fuzzParams(150));
  t.log(`clean configurations: ${clean}`);
  // Both outcomes must be exercised, or the generator drifted into only one of them.
  t.true(clean > 0, 'no generated configuration was clean');
});

// ---- mutated seed corpus --------------------------------------------------------------------

/** Replaces or deletes the value found by walking `steps` into `value`. */
function mutateAt(value: unknown, steps: number[], replacement: unknown, del: boolean): unknown {
  if (steps.length === 0 || value === null || typeof value !== 'object') return replacement;
  const keys = Object.keys(value);
  if (keys.length === 0) return replacement;
  const k = keys[steps[0]! % keys.length]!;
  const copy: Record<string, unknown> = Array.isArray(value) ? ([...value] as unknown as Record<string, unknown>) : { ...(value as Record<string, unknown>) };
  if (del && steps.length === 1) delete copy[k];
  else copy[k] = mutateAt(copy[k], steps.slice(1), replacement, del);
  return copy;
}

const mutatedDocs = fc.array(
  fc.tuple(fc.nat(seedDocs.length - 1), fc.array(fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 7 }), odd, fc.boolean()), { maxLength: 3 })),
  { minLength: 1, maxLength: 5 },
).map((picks) => picks.map(([i, muts]) => muts.reduce((d, [steps, rep, del]) => mutateAt(d, steps, rep, del), seedDocs[i])));

test('fuzz: mutated corpus documents never make the translator throw', (t) => {
  fc.assert(fc.property(mutatedDocs, (docs) => checkTranslation(docs.map((d) => stringify(d)).join('---\n'))), fuzzParams(300));
  t.pass();
});

test('fuzz: corpus files cut, spliced and scrambled as text never make the translator throw', (t) => {
  const text = fc.tuple(fc.nat(seedTexts.length - 1), fc.array(fc.tuple(fc.constantFrom('cut', 'insert', 'delete'), fc.nat(), fc.constantFrom(':', '-', ' ', '\n', '\t', '"', '&a', '*a', '!!binary', '{', '[', '\0', 'é')), { minLength: 1, maxLength: 4 }))
    .map(([i, ops]) => ops.reduce((s, [op, at, piece]) => {
      const p = at % (s.length + 1);
      if (op === 'cut') return s.slice(0, p);
      if (op === 'insert') return s.slice(0, p) + piece + s.slice(p);
      return s.slice(0, p) + s.slice(p + piece.length);
    }, seedTexts[i]!));
  fc.assert(fc.property(text, checkTranslation), fuzzParams(300));
  t.pass();
});

test('seed corpus: every fixture file translates without throwing', (t) => {
  t.true(seedTexts.length >= 10);
  for (const s of seedTexts) checkTranslation(s);
  t.pass();
});

// Inputs the fuzzer found that once threw; kept as fixed regression cases.
const FOUND = [
  'apiVersion: networking.istio.io/v1\nkind: __proto__\nmetadata: {name: g}\nspec: {}\n---\napiVersion: networking.istio.io/v1\nkind: constructor\nmetadata: {name: g}\nspec: {}\n',
  'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\nspec:\n  hosts: [r]\n  http:\n  - match: [{uri: {prefix: /}}]\n    directResponse:\n',
  '*a',
  'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: "*!"\n',
  'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |-\n    outboundTrafficPolicy:\n      mode: *aALLOW_ANY\n',
  'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: r}\nspec:\n  hosts: [r.default.svc.cluster.local]\n  ports: [{number: 9080, name: -1}]\n',
];

test('regressions found by fuzzing: reported as diagnostics, not thrown', (t) => {
  for (const y of FOUND) {
    t.notThrows(() => checkTranslation(y), y);
    t.true(translateYaml(y).diagnostics.length > 0, y);
  }
});
