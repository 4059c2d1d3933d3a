/**
 * End-to-end: a pod as `legate inject` writes it. The injected istio-init's arguments run as
 * given (root, in the pod's namespace), the app listens as uid 1000, the proxy runs as uid
 * 1337 with the injected ISTIO_KUBE_APP_PROBERS, and a "kubelet" on the node (the remote
 * namespace) probes the rewritten paths on the pod's IP with curl.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { APP_UID, curl, meshConfigMap, Pod, RemoteHost, startHttpServer, tcpClient } from './harness/index.js';
import { NODE, REPO_ROOT } from './harness/programs.js';
import { injectYaml } from '../../src/inject/inject.js';
import { defaultInjectOptions } from '../../src/inject/options.js';

test('an injected pod: istio-init as injected captures traffic, and the kubelet reaches the app probes through /app-health', async (t) => {
  const fixture = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'inject', 'deployment.in.yaml'), 'utf8');
  const [deployment] = parseAllDocuments(injectYaml(fixture, defaultInjectOptions()).output).map((d) => d.toJS());
  const spec = deployment.spec.template.spec;
  const init = spec.initContainers.find((c: any) => c.name === 'istio-init');
  const proxy = spec.containers.find((c: any) => c.name === 'istio-proxy');
  const app = spec.containers.find((c: any) => c.name === 'reviews');
  const env = Object.fromEntries(proxy.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));

  const remote = await RemoteHost.create(t, 'kubelet');
  const pod = await Pod.create(t, { remote, capture: false });
  await pod.ns.exec([NODE, join(REPO_ROOT, 'bin', 'legate.js'), ...init.args]);
  t.regex((await pod.ns.exec(['iptables-save', '-t', 'nat'])).stdout, /-A ISTIO_OUTPUT .*--uid-owner 1337/, "the injected init container's rules are in place");

  const appServer = await startHttpServer(pod.ns, app.ports[0].containerPort, { uid: APP_UID });
  pod.writeConfig(meshConfigMap());
  await pod.startProxy({ concurrency: 1, env });

  const probe = async (path: string) => (await curl(remote.ns, `http://${pod.ip}:${app.livenessProbe.httpGet.port}${path}`, { uid: 0 })).status;
  t.is(await probe(app.livenessProbe.httpGet.path), 200, 'HTTP liveness through the proxy');
  t.is(await probe(app.readinessProbe.httpGet.path), 200, 'HTTP readiness (with the probe headers)');
  t.is(await probe(app.startupProbe.httpGet.path), 200, 'the TCP startup probe, rewritten');
  t.true(appServer.proc.stdoutLines.some((l) => l.includes('"x-probe":"1"')), 'the original probe headers reached the app');
  t.is(await probe('/healthz/ready'), 200);

  await appServer.proc.stop('SIGKILL');
  t.is(await probe(app.livenessProbe.httpGet.path), 503, 'the app is gone: liveness fails');
  t.is(await probe(app.startupProbe.httpGet.path), 503, 'and the TCP check with it');
  const direct = await tcpClient(remote.ns, { host: pod.ip, port: 9080, send: 1 });
  t.true(direct.connected, 'a kubelet TCP probe of its own would still connect (the capture accepts it): why Istio rewrites TCP probes');
});
