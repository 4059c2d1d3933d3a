import { selfRunScenario } from '../lib/self_run.js';
import { performance } from 'node:perf_hooks';
import { Host } from '../../src/cluster/host.js';
import { ClusterLoadBalancer, DEFAULT_BALANCER_ENV } from '../../src/cluster/lb/cluster_load_balancer.js';
import { xxHash64, type Hash64 } from '../../src/cluster/lb/xxhash64.js';
import type { Cluster, LbPolicy } from '../../src/config/model.js';
import { summarise } from '../lib/stats.js';
import type { MeasureContext, Row, Sample, Scenario } from '../lib/types.js';

const POLICIES: LbPolicy[] = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV'];
const HOST_COUNTS = [10, 1000];
/** Precomputed request keys for the hashing balancers (the router's hashing is not part of the pick). */
const KEYS: Hash64[] = Array.from({ length: 1024 }, (_, i) => xxHash64(`user-${i}`));

function balancerFor(policy: LbPolicy, n: number, weighted: boolean): ClusterLoadBalancer {
  const hosts = Array.from({ length: n }, (_, i) => new Host(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 8080, weighted ? 1 + (i % 4) : 1));
  // Some load, so least request compares something.
  hosts.forEach((h, i) => (h.activeRequests = i % 3));
  const cluster: Cluster = { name: 'bench', type: 'STATIC', lbPolicy: policy, connectTimeoutMs: 1000, endpoints: [] };
  return new ClusterLoadBalancer(cluster, hosts, DEFAULT_BALANCER_ENV);
}

/** ns per pick over about `sec` seconds, in batches so the clock is read rarely. */
function measure(lb: ClusterLoadBalancer, hashing: boolean, sec: number): Sample {
  const batch = 20_000;
  let picks = 0;
  let sink = 0;
  const t0 = performance.now();
  let t = t0;
  do {
    for (let i = 0; i < batch; i++) sink += lb.chooseHost(hashing ? KEYS[i & 1023] : undefined)!.port;
    picks += batch;
    t = performance.now();
  } while (t - t0 < sec * 1000);
  if (sink === 0) throw new Error('no host picked');
  return { value: ((t - t0) * 1e6) / picks };
}

async function runSelf(ctx: MeasureContext): Promise<Row[]> {
  const rows: Row[] = [];
  // The smoke run (part of npm test) only checks that every balancer runs: 50 ms each.
  const sec = ctx.mode === 'smoke' ? 0.05 : Math.min(ctx.timing.durSec, 1);
  for (const policy of POLICIES) {
    const hashing = policy === 'RING_HASH' || policy === 'MAGLEV';
    for (const n of HOST_COUNTS) {
      for (const weighted of [false, true]) {
        const lb = balancerFor(policy, n, weighted);
        measure(lb, hashing, Math.min(sec, 0.2)); // warm-up: JIT and the lazily built pickers
        const samples: Sample[] = [];
        for (let r = 0; r < ctx.timing.reps; r++) samples.push(measure(lb, hashing, sec));
        const variant = `${n} hosts, ${weighted ? 'weights 1–4' : 'equal weights'}`;
        rows.push({ target: `lb-${policy.toLowerCase()}`, label: policy, layer: 'none', workers: 1, cpus: ctx.cpus.proxy, pinned: ctx.cpus.pinned, variant, tool: 'in-process loop', unit: 'ns', ...summarise(samples) });
      }
    }
  }
  return rows;
}

export const scenario: Scenario = selfRunScenario({
  name: 'lb_pick',
  title: 'Load balancer pick cost, 10 and 1,000 hosts',
  describes:
    'In-process micro benchmark: nanoseconds per ClusterLoadBalancer.chooseHost() for each lb_policy over 10 and 1,000 hosts, with equal ' +
    'weights and with weights 1–4 (hosts carry 0–2 active requests). Hashing balancers get precomputed request keys. Plain round robin and ' +
    'power-of-two-choices are O(1); weighted round robin and weighted least request are O(log hosts) per pick (EDF schedule, as Envoy); ring hash is a ' +
    'binary search, Maglev a table lookup.',
  order: 90,
  unit: 'ns',
  runSelf,
});
