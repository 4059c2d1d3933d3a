/**
 * End-to-end: trace context seen by a real upstream (issue 9 item 7): the proxy's span is a
 * child of the incoming B3 or W3C context, or the root of a new trace; both header sets agree.
 */
import test from 'ava';
import { httpRequest, meshConfigMap, podWithHttp, report, serviceEntry } from './harness/index.js';

const HOST = 'traced.example.internal';
const VIP = '240.240.4.10';
const args = (...h: string[]) => ['--resolve', `${HOST}:80:${VIP}`, ...h.flatMap((x) => ['-H', x])];

test('trace headers at the upstream: a new trace when none came, a child span of incoming B3 and W3C contexts', async (t) => {
  const { pod } = await podWithHttp(t, {
    servers: { web: 8080 },
    config: (r) => [
      meshConfigMap(),
      serviceEntry({ name: 'traced', hosts: [HOST], addresses: [VIP], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: r.ip, ports: { http: 8080 } }] }),
    ],
  });
  const seen = async (...h: string[]) => {
    const r = await httpRequest(pod.ns, `http://${HOST}/`, { args: args(...h) });
    t.is(r.status, 200, r.stderr);
    return report(r).headers;
  };

  const fresh = await seen();
  // Istio's route decorator (host:port/path*) goes to the upstream; an app's own value is replaced.
  t.is(fresh['x-envoy-decorator-operation'], `${HOST}:80/*`);
  t.is((await seen('x-envoy-decorator-operation: from-app'))['x-envoy-decorator-operation'], `${HOST}:80/*`);
  t.regex(fresh['x-request-id'], /^[0-9a-f-]{36}$/);
  t.regex(fresh['x-b3-traceid'], /^[0-9a-f]{32}$/);
  t.regex(fresh['x-b3-spanid'], /^[0-9a-f]{16}$/);
  t.false('x-b3-parentspanid' in fresh);
  t.regex(fresh['x-b3-sampled'], /^[01]$/);
  t.is(fresh.traceparent, `00-${fresh['x-b3-traceid']}-${fresh['x-b3-spanid']}-0${fresh['x-b3-sampled']}`);

  const b3 = await seen('x-b3-traceid: 80f198ee56343ba864fe8b2a57d3eff7', 'x-b3-spanid: e457b5a2e4d86bd1', 'x-b3-sampled: 1', 'x-request-id: my-id');
  t.is(b3['x-request-id'], 'my-id');
  t.is(b3['x-b3-traceid'], '80f198ee56343ba864fe8b2a57d3eff7');
  t.is(b3['x-b3-parentspanid'], 'e457b5a2e4d86bd1');
  t.not(b3['x-b3-spanid'], 'e457b5a2e4d86bd1');
  t.is(b3['x-b3-sampled'], '1');

  const w3c = await seen('traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'tracestate: congo=t61rcWkgMzE');
  t.regex(w3c.traceparent, /^00-4bf92f3577b34da6a3ce929d0e0e4736-(?!00f067aa0ba902b7)[0-9a-f]{16}-01$/);
  t.is(w3c.tracestate, 'congo=t61rcWkgMzE');
  t.is(w3c['x-b3-traceid'], '4bf92f3577b34da6a3ce929d0e0e4736');
  t.is(w3c['x-b3-parentspanid'], '00f067aa0ba902b7');

  // Outbound, an upstream's decorator only names the span: the app does not get it.
  const answered = await httpRequest(pod.ns, `http://${HOST}/?hdr=x-envoy-decorator-operation:upstream-op&hdr=x-other:kept`, { args: args() });
  t.is(answered.status, 200, answered.stderr);
  t.is(answered.headers['x-other'], 'kept');
  t.false('x-envoy-decorator-operation' in answered.headers);
});
