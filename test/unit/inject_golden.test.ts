import test from 'ava';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Pod } from 'kubernetes-models/v1';
import { Deployment, StatefulSet, DaemonSet, ReplicaSet } from 'kubernetes-models/apps/v1';
import { Job, CronJob } from 'kubernetes-models/batch/v1';
import { Service } from 'kubernetes-models/v1';
import { injectYaml } from '../../src/inject/inject.js';
import { defaultInjectOptions, meshFromFile } from '../../src/inject/options.js';

/**
 * Golden outputs of `legate inject` over several workload kinds (test/fixtures/inject/*.in.yaml
 * → *.golden.yaml; UPDATE_GOLDEN=1 rewrites them — review the diff), each injected document
 * validated against the Kubernetes OpenAPI schema (kubernetes-models' ajv validators).
 */
const DIR = join(process.cwd(), 'test', 'fixtures', 'inject');
const OPTS = meshFromFile(join(DIR, 'mesh.yaml'), { ...defaultInjectOptions(), image: 'registry.example/legate:test' });
const MODELS: Record<string, new (o: any) => { validate(): void }> = { Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Service };

const docsOf = (text: string) => parseAllDocuments(text as string).map((d: any) => d.toJS());
const podSpecs = (docs: any[]) => docs.map((d) => (d.kind === 'Pod' ? d.spec : d.kind === 'CronJob' ? d.spec.jobTemplate.spec.template.spec : d.spec.template.spec));
const podMetas = (docs: any[]) => docs.map((d) => (d.kind === 'Pod' ? d.metadata : d.kind === 'CronJob' ? d.spec.jobTemplate.spec.template.metadata : d.spec.template.metadata));

for (const file of readdirSync(DIR).filter((f) => f.endsWith('.in.yaml'))) {
  const name = file.replace(/\.in\.yaml$/, '');
  test(`inject golden: ${name}`, (t) => {
    const { output } = injectYaml(readFileSync(join(DIR, file), 'utf8'), OPTS);
    const golden = join(DIR, `${name}.golden.yaml`);
    if (process.env.UPDATE_GOLDEN || !existsSync(golden)) writeFileSync(golden, output);
    t.is(output, readFileSync(golden, 'utf8'));
    for (const doc of docsOf(output)) {
      const Model = MODELS[doc.kind];
      t.truthy(Model, `a validator for ${doc.kind}`);
      t.notThrows(() => new Model(doc).validate(), `${doc.kind}/${doc.metadata.name} is a valid Kubernetes object`);
    }
    t.is(injectYaml(output, OPTS).output, output, 'injecting injected output changes nothing');
  });
}

test('inject: a Deployment gains istio-init first, istio-proxy, volumes and the rewritten probes', (t) => {
  const docs = docsOf(injectYaml(readFileSync(join(DIR, 'deployment.in.yaml'), 'utf8'), OPTS).output);
  const [spec] = podSpecs(docs.slice(0, 1));
  const [meta] = podMetas(docs.slice(0, 1));
  t.deepEqual(spec.initContainers.map((c: any) => c.name), ['istio-init']);
  const init = spec.initContainers[0];
  t.deepEqual(init.args.slice(0, 9), ['iptables', '-p', '15001', '-z', '15006', '-u', '1337', '-m', 'REDIRECT']);
  t.deepEqual(init.args.slice(-2), ['-o', '5432'], 'traffic.sidecar.istio.io/excludeOutboundPorts');
  t.deepEqual(init.securityContext.capabilities.add, ['NET_ADMIN', 'NET_RAW']);
  t.is(init.securityContext.runAsUser, 0);
  const proxy = spec.containers.find((c: any) => c.name === 'istio-proxy');
  t.deepEqual(proxy.args.slice(0, 2), ['proxy', 'sidecar']);
  t.is(proxy.securityContext.runAsUser, 1337);
  t.deepEqual(proxy.readinessProbe.httpGet, { path: '/healthz/ready', port: 15021 });
  t.is(proxy.resources.requests.cpu, '50m', 'sidecar.istio.io/proxyCPU');
  const env = Object.fromEntries(proxy.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
  t.deepEqual(env.POD_NAME, { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } });
  t.deepEqual(env.INSTANCE_IP, { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } });
  t.is(env.ISTIO_META_WORKLOAD_NAME, 'reviews-v1');
  t.is(env.ISTIO_META_CLUSTER_ID, 'east', 'from the mesh proxyMetadata, once');
  t.is(proxy.env.filter((e: any) => e.name === 'ISTIO_META_CLUSTER_ID').length, 1);
  t.is(env.ISTIO_META_DNS_CAPTURE, 'true');
  t.deepEqual(JSON.parse(env.ISTIO_KUBE_APP_PROBERS), {
    '/app-health/reviews/livez': { httpGet: { path: '/health', port: 9080 }, timeoutSeconds: 2 },
    '/app-health/reviews/readyz': { httpGet: { path: '/ready', port: 9080, httpHeaders: [{ name: 'x-probe', value: '1' }] } },
    '/app-health/reviews/startupz': { tcpSocket: { port: 9080 } },
  });
  const app = spec.containers.find((c: any) => c.name === 'reviews');
  t.deepEqual(app.livenessProbe.httpGet, { path: '/app-health/reviews/livez', port: 15020, scheme: 'HTTP' }, "pilot-agent's status port");
  t.deepEqual(app.startupProbe, { httpGet: { path: '/app-health/reviews/startupz', port: 15020, scheme: 'HTTP' } }, 'a TCP probe is asked of the proxy too (the capture would accept any port)');
  t.true(spec.volumes.some((v: any) => v.name === 'istio-token' && v.projected));
  t.true(spec.volumes.some((v: any) => v.name === 'istio-config' && v.configMap.name === 'istio'));
  t.is(meta.annotations['prometheus.io/port'], '15020', 'Prometheus scrapes the merged metrics on the status port');
  t.is(env.ISTIO_PROMETHEUS_ANNOTATIONS, undefined, 'the app had no scrape annotations of its own');
  t.is(meta.labels['security.istio.io/tlsMode'], 'istio');
  t.is(JSON.parse(meta.annotations['sidecar.istio.io/status']).containers[0], 'istio-proxy');
  t.is(docs[1].kind, 'Service');
  t.deepEqual(docs[1], docsOf(readFileSync(join(DIR, 'deployment.in.yaml'), 'utf8'))[1], 'other kinds pass through unchanged');
});

test('inject: holdApplicationUntilProxyStarts puts the proxy first with a postStart wait; nativeSidecar makes it an init container', (t) => {
  const [pod] = podSpecs(docsOf(injectYaml(readFileSync(join(DIR, 'pod.in.yaml'), 'utf8'), OPTS).output));
  t.is(pod.containers[0].name, 'istio-proxy');
  t.deepEqual(pod.containers[0].lifecycle.postStart.exec.command, ['legate', 'wait']);
  const [sts] = podSpecs(docsOf(injectYaml(readFileSync(join(DIR, 'statefulset.in.yaml'), 'utf8'), OPTS).output));
  t.deepEqual(sts.initContainers.map((c: any) => [c.name, c.restartPolicy]), [['istio-init', undefined], ['istio-proxy', 'Always'], ['migrate', undefined]]);
  t.deepEqual(sts.containers.map((c: any) => c.name), ['db']);
  t.true(sts.initContainers[1].args.includes('--tproxy'));
  t.is(sts.initContainers[0].args[8], 'TPROXY');
});

test("inject: Istio's metrics merging moves the app's prometheus.io annotations into the sidecar and points Prometheus at the status port", (t) => {
  const docs = docsOf(injectYaml(readFileSync(join(DIR, 'statefulset.in.yaml'), 'utf8'), OPTS).output);
  const [meta] = podMetas(docs);
  const [spec] = podSpecs(docs);
  const proxy = spec.initContainers.find((c: any) => c.name === 'istio-proxy');
  const env = Object.fromEntries(proxy.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
  t.deepEqual(JSON.parse(env.ISTIO_PROMETHEUS_ANNOTATIONS), { scrape: 'true', path: '/metrics', port: '9187' });
  t.deepEqual([meta.annotations['prometheus.io/port'], meta.annotations['prometheus.io/path'], meta.annotations['prometheus.io/scrape']], ['15020', '/stats/prometheus', 'true']);
  const again = docsOf(injectYaml(injectYaml(readFileSync(join(DIR, 'statefulset.in.yaml'), 'utf8'), OPTS).output, OPTS).output);
  t.deepEqual(again, docs, 'idempotent');
  const off = docsOf(injectYaml(readFileSync(join(DIR, 'statefulset.in.yaml'), 'utf8').replace('prometheus.io/scrape: "true"', 'prometheus.io/scrape: "false"'), OPTS).output);
  t.is(podMetas(off)[0].annotations['prometheus.io/port'], '9187', 'scrape "false": left alone');
});

test('inject: inject "false", interceptionMode NONE and --cni', (t) => {
  const { output, notes } = injectYaml(readFileSync(join(DIR, 'jobs.in.yaml'), 'utf8'), OPTS);
  const docs = docsOf(output);
  const specs = podSpecs(docs);
  t.deepEqual(docs.map((d) => d.kind), ['CronJob', 'Job', 'DaemonSet', 'ReplicaSet']);
  t.is(specs[1].initContainers, undefined, 'interceptionMode NONE: no init container');
  t.true(specs[1].containers.some((c: any) => c.name === 'istio-proxy'));
  t.deepEqual(specs[2].containers.map((c: any) => c.name), ['agent'], 'sidecar.istio.io/inject: "false" left alone');
  t.deepEqual(notes, ['DaemonSet/agent: not injected (sidecar.istio.io/inject is false)']);
  const cni = podSpecs(docsOf(injectYaml(readFileSync(join(DIR, 'jobs.in.yaml'), 'utf8'), { ...OPTS, cni: true }).output));
  t.is(cni[0].initContainers, undefined, 'the CNI plugin writes the rules: no init container');
});

test('legate inject reads stdin or -f, writes YAML to stdout and its notes to stderr', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const bin = join(process.cwd(), 'bin', 'legate.js');
  const input = readFileSync(join(DIR, 'jobs.in.yaml'), 'utf8');
  const args = ['--meshConfig', join(DIR, 'mesh.yaml'), '--image', 'registry.example/legate:test'];
  const piped = spawnSync(process.execPath, [bin, 'inject', ...args], { input, encoding: 'utf8' });
  t.is(piped.status, 0, piped.stderr);
  t.is(piped.stdout, readFileSync(join(DIR, 'jobs.golden.yaml'), 'utf8'));
  t.is(piped.stderr, 'DaemonSet/agent: not injected (sidecar.istio.io/inject is false)\n');
  const fromFile = spawnSync(process.execPath, [bin, 'inject', '-f', join(DIR, 'jobs.in.yaml'), ...args], { encoding: 'utf8' });
  t.is(fromFile.stdout, piped.stdout);
  const bad = spawnSync(process.execPath, [bin, 'inject', '--bogus'], { input: '', encoding: 'utf8' });
  t.is(bad.status, 1);
  t.regex(bad.stderr, /unknown flag "--bogus"/);
});
