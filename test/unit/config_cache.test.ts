import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadResources, ParseCache } from '../../src/config/resources.js';
import { DEFAULT_TRANSLATE_OPTIONS } from '../../src/config/translate/context.js';
import { translate } from '../../src/config/translate/index.js';
import { serviceEntry, tempDir } from './config_helpers.js';

/** Reloads go through caches and memos; these pin that they never change the result. */
function reloader(dir: string) {
  const cache = new ParseCache();
  return () => {
    const l = loadResources([dir], cache);
    const t = translate(l.resources, DEFAULT_TRANSLATE_OPTIONS);
    return { ...t, resources: l.resources, diagnostics: [...l.diagnostics, ...t.diagnostics] };
  };
}

const vsWithUnknownField = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web}
spec:
  hosts: [web]
  bogus: 1
  http: [{route: [{destination: {host: web}}]}]
`;

test('an unchanged document keeps its Resource object, and its diagnostics follow it when lines above it change', (t) => {
  const dir = tempDir();
  const file = join(dir, 'a.yaml');
  writeFileSync(file, serviceEntry('web') + vsWithUnknownField);
  const load = reloader(dir);
  const a = load();
  t.deepEqual(a.diagnostics.map((d) => `${d.line} ${d.path}`), ['21 spec.bogus']);
  writeFileSync(file, '# a comment\n# and another\n' + serviceEntry('web') + vsWithUnknownField);
  const b = load();
  t.is(b.resources[1], a.resources[1], 'same Resource object for the unchanged VirtualService');
  t.deepEqual(b.diagnostics.map((d) => `${d.line} ${d.path}`), ['23 spec.bogus']);
  t.is(b.resources[1].lineOf(['spec', 'http']), 24);
});

test('memoized virtual hosts follow what they depend on in other resources (destination hash policy, destination ports)', (t) => {
  const dir = tempDir();
  const dr = (hash: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: api}
spec:
  host: api
  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: ${hash}}}}
`;
  const vs = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web}
spec:
  hosts: [web]
  http: [{route: [{destination: {host: api}}]}]
---
`;
  writeFileSync(join(dir, 'svc.yaml'), serviceEntry('web') + serviceEntry('api'));
  writeFileSync(join(dir, 'vs.yaml'), vs);
  writeFileSync(join(dir, 'dr.yaml'), dr('x-user'));
  const load = reloader(dir);
  const route = (out: ReturnType<typeof load>) => out.routes[0].virtualHosts.find((v) => v.name === 'web.default.svc.cluster.local:80')!.routes[0].route!;
  t.deepEqual(route(load()).hashPolicy, [{ header: { headerName: 'x-user' } }]);
  writeFileSync(join(dir, 'dr.yaml'), dr('x-session'));
  t.deepEqual(route(load()).hashPolicy, [{ header: { headerName: 'x-session' } }]);
  writeFileSync(join(dir, 'svc.yaml'), serviceEntry('web') + serviceEntry('api', { port: 8080 }));
  t.is(route(load()).cluster, 'outbound|8080||api.default.svc.cluster.local', "the destination's only port changed");
});

test('a cached translation equals a fresh one', (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.yaml'), serviceEntry('web', { vip: '10.0.0.1' }) + vsWithUnknownField);
  const load = reloader(dir);
  load();
  writeFileSync(join(dir, 'b.yaml'), serviceEntry('api', { vip: '10.0.0.2' }));
  const cached = load();
  const fresh = translate(loadResources([dir]).resources, DEFAULT_TRANSLATE_OPTIONS);
  t.deepEqual(JSON.parse(JSON.stringify({ l: cached.listeners, r: cached.routes, c: cached.clusters })), JSON.parse(JSON.stringify({ l: fresh.listeners, r: fresh.routes, c: fresh.clusters })));
});
