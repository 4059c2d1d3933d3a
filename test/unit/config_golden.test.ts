import test from 'ava';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TranslateOptions } from '../../src/config/translate/context.js';
import { fixture, translateFiles } from './config_helpers.js';

/**
 * Golden translations of realistic configurations. The model is compared as JSON with the
 * files under test/fixtures/config/golden/; UPDATE_GOLDEN=1 rewrites them (review the diff).
 */
const CASES: { name: string; paths: string[]; opts: Partial<TranslateOptions> }[] = [
  { name: 'bookinfo-sidecar', paths: [fixture('bookinfo')], opts: { role: 'sidecar', namespace: 'default', labels: { app: 'productpage', version: 'v1' } } },
  { name: 'bookinfo-router', paths: [fixture('bookinfo')], opts: { role: 'router', namespace: 'istio-system', labels: { istio: 'ingressgateway' } } },
  {
    name: 'bookinfo-ratings-abort-sidecar',
    paths: [fixture('bookinfo', 'services.yaml'), fixture('bookinfo', 'destination-rule-all.yaml'), fixture('ratings-abort')],
    opts: { role: 'sidecar', namespace: 'default' },
  },
  { name: 'istio-docs-sidecar-default', paths: [fixture('istio-docs')], opts: { role: 'sidecar', namespace: 'default' } },
  { name: 'istio-docs-sidecar-prod-ratings', paths: [fixture('istio-docs')], opts: { role: 'sidecar', namespace: 'prod', labels: { app: 'ratings' } } },
  { name: 'istio-docs-router', paths: [fixture('istio-docs')], opts: { role: 'router', namespace: 'some-config-namespace', labels: { app: 'my-gateway-controller' } } },
];

const GOLDEN = fixture('golden');

for (const c of CASES) {
  test(`golden: ${c.name}`, (t) => {
    const out = translateFiles(c.paths, c.opts);
    const actual = JSON.stringify(
      { role: out.role, diagnostics: out.lines, mesh: out.mesh, listeners: out.listeners, routes: out.routes, clusters: out.clusters, nameTable: out.nameTable },
      null,
      1,
    ) + '\n';
    const file = join(GOLDEN, `${c.name}.json`);
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
      mkdirSync(GOLDEN, { recursive: true });
      writeFileSync(file, actual);
      if (process.env.UPDATE_GOLDEN !== '1') t.fail(`golden file ${file} was missing and has been written: review it, then rerun`);
      else t.pass();
      return;
    }
    t.is(out.diagnostics.filter((d) => d.severity === 'error').length, 0, out.lines.join('\n'));
    t.deepEqual(JSON.parse(actual), JSON.parse(readFileSync(file, 'utf8')), `translation differs from ${file}; rerun with UPDATE_GOLDEN=1 if the change is intended`);
  });
}

test('golden translation is structured-cloneable and deterministic', (t) => {
  const a = translateFiles([fixture('bookinfo')]);
  const b = translateFiles([fixture('bookinfo')]);
  t.deepEqual(structuredClone({ l: a.listeners, r: a.routes, c: a.clusters }), { l: b.listeners, r: b.routes, c: b.clusters });
});
