import { selfRunScenario } from '../lib/self_run.js';
import { performance } from 'node:perf_hooks';
import type { RbacRules } from '../../src/config/model.js';
import type { AuthzInput } from '../../src/filters/http/rbac/attributes.js';
import { CompiledRbac } from '../../src/filters/http/rbac/engine.js';
import { summarise } from '../lib/stats.js';
import type { MeasureContext, Row, Sample, Scenario } from '../lib/types.js';

/**
 * A handful of AuthorizationPolicy rules shaped like Istio's examples: a DENY on admin paths
 * and a header, ALLOW by method + port, by ipBlock + path, by principal. Evaluated per request
 * on the inbound path (src/filters/http/rbac/engine.ts).
 */
const RULES: RbacRules[] = [
  {
    action: 'DENY',
    policies: [
      { name: 'ns[default]-policy[deny-admin]-rule[0]', from: [], to: [{ paths: { values: ['/admin*', '*/debug'] } }], when: [] },
      { name: 'ns[default]-policy[deny-header]-rule[0]', from: [], to: [], when: [{ key: 'request.headers[x-block]', values: ['yes'] }] },
    ],
  },
  {
    action: 'ALLOW',
    policies: [
      { name: 'ns[default]-policy[allow-sleep]-rule[0]', from: [{ principals: { values: ['cluster.local/ns/default/sa/sleep'] } }], to: [], when: [] },
      { name: 'ns[default]-policy[allow-upload]-rule[0]', from: [{ ipBlocks: { values: ['192.168.0.0/16'] } }], to: [{ methods: { values: ['POST'] }, paths: { values: ['/upload'] } }], when: [] },
      { name: 'ns[default]-policy[allow-get]-rule[0]', from: [], to: [{ methods: { values: ['GET', 'HEAD'] }, ports: { values: ['8080'] } }], when: [] },
    ],
  },
];

const REQUEST: AuthzInput = {
  sourceIp: '10.1.2.3',
  remoteIp: '10.1.2.3',
  destinationIp: '10.0.0.5',
  destinationPort: 8080,
  host: 'httpbin:8080',
  method: 'GET',
  path: '/api/items',
  headers: ['host', 'httpbin:8080', 'user-agent', 'curl/8', 'accept', '*/*', 'x-request-id', 'abc'],
};
const DENIED: AuthzInput = { ...REQUEST, method: 'DELETE' };

function measure(rbac: CompiledRbac, input: AuthzInput, sec: number): Sample {
  const batch = 20_000;
  let n = 0;
  let allowed = 0;
  const t0 = performance.now();
  let t = t0;
  do {
    for (let i = 0; i < batch; i++) if (rbac.evaluate(input).allowed) allowed++;
    n += batch;
    t = performance.now();
  } while (t - t0 < sec * 1000);
  if (allowed !== 0 && allowed !== n) throw new Error('inconsistent verdicts');
  return { value: ((t - t0) * 1e6) / n };
}

async function runSelf(ctx: MeasureContext): Promise<Row[]> {
  const sec = ctx.mode === 'smoke' ? 0.05 : Math.min(ctx.timing.durSec, 1);
  const rbac = new CompiledRbac(RULES);
  const rows: Row[] = [];
  for (const [variant, input] of [
    ['5 rules, request allowed by the last ALLOW rule', REQUEST],
    ['5 rules, request denied (no ALLOW matches)', DENIED],
  ] as const) {
    measure(rbac, input, Math.min(sec, 0.2)); // warm-up
    const samples: Sample[] = [];
    for (let r = 0; r < ctx.timing.reps; r++) samples.push(measure(rbac, input, sec));
    rows.push({ target: 'legate-rbac', label: 'RBAC evaluate()', layer: 'none', workers: 1, cpus: ctx.cpus.proxy, pinned: ctx.cpus.pinned, variant, tool: 'in-process loop', unit: 'ns', ...summarise(samples) });
  }
  return rows;
}

export const scenario: Scenario = selfRunScenario({
  name: 'authz_eval',
  title: 'AuthorizationPolicy evaluation cost per request',
  describes:
    'In-process micro benchmark: nanoseconds per CompiledRbac.evaluate() for five Istio-style rules (DENY by path and header; ALLOW by ' +
    'principal, by ipBlock + method + path, by method + port), compiled once. This is the per-request work the RBAC filter adds on the ' +
    'inbound path; http_small measures it end to end (inbound 15006 without and with the same five rules).',
  order: 91,
  unit: 'ns',
  runSelf,
});
