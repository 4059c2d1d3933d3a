import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Service } from 'kubernetes-models/v1';
import { parseProxyOptions } from '../../src/main/options.js';
import { fixture, translateFiles } from './config_helpers.js';

/** deploy/*gateway.yaml: valid Kubernetes objects that run `legate proxy router` as Istio's gateways do. */
for (const [file, istio] of [['ingressgateway.yaml', 'ingressgateway'], ['egressgateway.yaml', 'egressgateway']] as const) {
  test(`deploy/${file}: a valid Deployment + Service running legate proxy router labelled istio: ${istio}`, (t) => {
    const docs = parseAllDocuments(readFileSync(join(process.cwd(), 'deploy', file), 'utf8')).map((d) => d.toJS());
    t.deepEqual(docs.map((d) => d.kind), ['Deployment', 'Service']);
    const [deployment, service] = docs;
    t.notThrows(() => new Deployment(deployment).validate());
    t.notThrows(() => new Service(service).validate());

    const pod = deployment.spec.template;
    t.is(pod.metadata.labels.istio, istio);
    t.is(deployment.spec.selector.matchLabels.istio, istio);
    for (const [k, v] of Object.entries(deployment.spec.selector.matchLabels)) t.is(pod.metadata.labels[k], v, 'the selector matches the pods');
    for (const [k, v] of Object.entries(service.spec.selector)) t.is(pod.metadata.labels[k], v, 'the Service selects the pods');
    t.is(pod.metadata.labels['sidecar.istio.io/inject'], 'false', 'a gateway gets no sidecar');

    const [proxy] = pod.spec.containers;
    t.deepEqual(proxy.args.slice(0, 2), ['proxy', 'router']);
    const opts = parseProxyOptions(proxy.args.slice(2), {});
    t.is(opts.proxyLabels?.istio, istio, '--proxy-labels carries the istio label the Gateways select');
    t.deepEqual(opts.config, ['/etc/istio/config', '/etc/legate/routing']);
    const mounts = proxy.volumeMounts.map((m: any) => m.mountPath);
    for (const c of opts.config) t.true(mounts.includes(c), `${c} is mounted`);
    t.is(proxy.securityContext.runAsUser, 1337);
    t.deepEqual(proxy.readinessProbe.httpGet, { path: '/healthz/ready', port: 15021, scheme: 'HTTP' });
    const containerPorts = new Set(proxy.ports.map((p: any) => p.containerPort));
    for (const p of service.spec.ports) t.true(containerPorts.has(p.targetPort), `Service port ${p.name} reaches a container port`);

    // The Gateways meant for this gateway (selector istio: <label>) become its listeners.
    const gateway = translateFiles([fixture('bookinfo')], { role: 'router', namespace: 'istio-system', labels: opts.proxyLabels });
    if (istio === 'ingressgateway') t.true(gateway.listeners.some((l) => l.address.port === 8080), JSON.stringify(gateway.listeners.map((l) => l.name)));
    else t.deepEqual(gateway.listeners, [], 'bookinfo-gateway selects the ingress gateway only');
  });
}
