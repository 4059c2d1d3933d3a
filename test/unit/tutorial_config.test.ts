import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { translateYaml } from '../support/translate.js';

// The tutorial's proxies each read a set of docs/tutorial/*.yaml files: every set must
// translate without a single warning, so a reader never sees a complaint the page does not explain.
const DIR = fileURLToPath(new URL('../../../docs/tutorial/', import.meta.url));
const read = (...files: string[]) => files.map((f) => readFileSync(`${DIR}${f}.yaml`, 'utf8')).join('\n---\n');

const SIDECAR_FINAL = ['mesh-registry-only', 'reviews', 'reviews-destination-rule', 'reviews-50-v3', 'databases', 'httpbin', 'partner', 'egress-gateway-service', 'egress-gateway'];
const INGRESS = ['mesh', 'reviews', 'reviews-destination-rule', 'reviews-50-v3', 'bookinfo-gateway'];
const EGRESS = ['mesh', 'httpbin', 'egress-gateway-service', 'egress-gateway'];

test('tutorial config: every file the sidecar reads, at every step, translates cleanly', (t) => {
  for (const vs of ['reviews-v1', 'reviews-jason', 'reviews-50-v3']) {
    t.deepEqual(translateYaml(read('mesh', 'reviews', 'reviews-destination-rule', vs)).lines, [], vs);
  }
  const out = translateYaml(read(...SIDECAR_FINAL), { role: 'sidecar' });
  t.deepEqual(out.lines, []);
  t.is(out.mesh.outboundTrafficPolicy, 'REGISTRY_ONLY');
});

test('tutorial config: the ingress gateway serves bookinfo.example and redirects secure.bookinfo.example', (t) => {
  const out = translateYaml(read(...INGRESS), { role: 'router', labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' } });
  t.deepEqual(out.lines, []);
  t.deepEqual(out.listeners.map((l) => l.name), ['0.0.0.0_80']);
  const vhosts = out.routes.find((r) => r.name === 'http.80')!.virtualHosts;
  t.deepEqual(vhosts.map((v) => [v.name, v.requireTls ?? null, v.routes[0].route?.cluster]), [
    ['bookinfo.example:80', null, 'outbound|9080|v3|reviews.default.svc.cluster.local'],
    ['secure.bookinfo.example:80', 'ALL', 'outbound|9080|v3|reviews.default.svc.cluster.local'],
  ]);
});

test('tutorial config: the egress gateway forwards httpbin.external.example and the sidecar sends it there', (t) => {
  const gw = translateYaml(read(...EGRESS), { role: 'router', labels: { istio: 'egressgateway', app: 'istio-egressgateway' } });
  t.deepEqual(gw.lines, []);
  const gwRoute = gw.routes.find((r) => r.name === 'http.80')!.virtualHosts.find((v) => v.name === 'httpbin.external.example:80')!;
  t.is(gwRoute.routes[0].route?.cluster, 'outbound|80||httpbin.external.example');
  const sidecar = translateYaml(read(...SIDECAR_FINAL), { role: 'sidecar' });
  const meshRoute = sidecar.routes.find((r) => r.name === '80')!.virtualHosts.find((v) => v.name === 'httpbin.external.example:80')!;
  t.is(meshRoute.routes[0].route?.cluster, 'outbound|80||istio-egressgateway.istio-system.svc.cluster.local');
});
