import test from 'ava';
import { propagateTraceContext } from '../../src/filters/http/tracing/trace_context.js';
import { decorateRequest, decorateResponse } from '../../src/filters/http/tracing/decorator.js';
import { getHeader } from '../../src/filters/network/http_connection_manager/codec/index.js';

const run = (headers: string[], sampling?: number) => {
  const h = [...headers];
  propagateTraceContext(h, sampling);
  return (name: string) => getHeader(h, name);
};

test('a request without trace context starts a trace: 128-bit trace id, new span, no parent, B3 and W3C agree', (t) => {
  const get = run(['host', 'a'], 100);
  t.regex(get('x-b3-traceid')!, /^[0-9a-f]{32}$/);
  t.regex(get('x-b3-spanid')!, /^[0-9a-f]{16}$/);
  t.is(get('x-b3-parentspanid'), undefined);
  t.is(get('x-b3-sampled'), '1', 'sampling 100 %');
  t.is(get('traceparent'), `00-${get('x-b3-traceid')}-${get('x-b3-spanid')}-01`);
  t.is(get('tracestate'), undefined);
  const unsampled = run(['host', 'a'], 0);
  t.is(unsampled('x-b3-sampled'), '0', 'sampling 0 %');
  t.is(unsampled('traceparent'), `00-${unsampled('x-b3-traceid')}-${unsampled('x-b3-spanid')}-00`);
});

test('two requests get different ids', (t) => {
  const a = run([]);
  const b = run([]);
  t.not(a('x-b3-traceid'), b('x-b3-traceid'));
  t.not(a('x-b3-spanid'), b('x-b3-spanid'));
});

test('B3 context: same trace, the incoming span becomes the parent, the sampling decision is kept', (t) => {
  const get = run(['x-b3-traceid', '463AC35C9F6413AD', 'x-b3-spanid', 'a2fb4a1d1a96d312', 'x-b3-sampled', '0'], 100);
  t.is(get('x-b3-traceid'), '463ac35c9f6413ad', '64-bit ids stay 64-bit');
  t.is(get('x-b3-parentspanid'), 'a2fb4a1d1a96d312');
  t.not(get('x-b3-spanid'), 'a2fb4a1d1a96d312');
  t.is(get('x-b3-sampled'), '0');
  t.is(get('traceparent'), `00-0000000000000000463ac35c9f6413ad-${get('x-b3-spanid')}-00`);
  t.is(run(['x-b3-traceid', '463ac35c9f6413ad', 'x-b3-spanid', 'a2fb4a1d1a96d312', 'x-b3-flags', '1'], 0)('x-b3-sampled'), '1', 'debug flag samples');
});

test('W3C context: trace id and flags kept, new parent id, tracestate forwarded', (t) => {
  const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const get = run(['traceparent', tp, 'tracestate', 'congo=t61rcWkgMzE'], 0);
  t.is(get('x-b3-traceid'), '4bf92f3577b34da6a3ce929d0e0e4736');
  t.is(get('x-b3-parentspanid'), '00f067aa0ba902b7');
  t.is(get('x-b3-sampled'), '1', 'the sampled flag of traceparent wins over local sampling');
  t.regex(get('traceparent')!, /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  t.not(get('traceparent'), tp);
  t.is(get('tracestate'), 'congo=t61rcWkgMzE');
});

test('an invalid traceparent starts a new trace and its tracestate is dropped', (t) => {
  const get = run(['traceparent', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', 'tracestate', 'x=y'], 100);
  t.not(get('x-b3-traceid'), '00000000000000000000000000000000');
  t.is(get('x-b3-parentspanid'), undefined);
  t.is(get('tracestate'), undefined);
});

test('single b3 header is read; a stale x-b3-parentspanid from a context-less request is removed', (t) => {
  const get = run(['b3', '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90']);
  t.is(get('x-b3-traceid'), '80f198ee56343ba864fe8b2a57d3eff7');
  t.is(get('x-b3-parentspanid'), 'e457b5a2e4d86bd1');
  t.is(get('x-b3-sampled'), '1');
  t.is(run(['x-b3-parentspanid', 'e457b5a2e4d86bd1'])('x-b3-parentspanid'), undefined);
});

test('a stale x-b3-parentspanid and a foreign tracestate are both removed, whichever comes first, and nothing else is', (t) => {
  const stale = ['x-b3-parentspanid', 'e457b5a2e4d86bd1'];
  const foreign = ['traceparent', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', 'tracestate', 'x=y'];
  for (const order of [[...stale, 'host', 'a', ...foreign], [...foreign, 'host', 'a', ...stale]]) {
    const h = [...order];
    propagateTraceContext(h, 100);
    t.is(getHeader(h, 'x-b3-parentspanid'), undefined);
    t.is(getHeader(h, 'tracestate'), undefined);
    t.is(getHeader(h, 'host'), 'a');
    t.is(h.filter((_, i) => i % 2 === 0).sort().join(' '), 'host traceparent x-b3-sampled x-b3-spanid x-b3-traceid');
  }
});

// ---- route decorator (x-envoy-decorator-operation) ----------------------------------------

const OP = 'reviews.default.svc.cluster.local:9080/*';

test('egress: the upstream request carries the route operation, replacing a caller\'s; the upstream\'s answer is dropped', (t) => {
  const h = ['host', 'reviews', 'x-envoy-decorator-operation', 'from-app'];
  t.is(decorateRequest(h, OP, false), undefined, 'egress responses carry none');
  t.deepEqual(h, ['host', 'reviews', 'x-envoy-decorator-operation', OP]);
  const fresh = ['host', 'reviews'];
  decorateRequest(fresh, OP, false);
  t.deepEqual(fresh, ['host', 'reviews', 'x-envoy-decorator-operation', OP]);
  const noOperation = ['host', 'reviews'];
  decorateRequest(noOperation, undefined, false);
  t.deepEqual(noOperation, ['host', 'reviews'], 'a route without a decorator adds nothing');
  const response = ['content-length', '0', 'x-envoy-decorator-operation', 'upstream-op'];
  decorateResponse(response, undefined, false);
  t.deepEqual(response, ['content-length', '0']);
});

test('ingress: a caller\'s operation overrides the route\'s and does not reach the app; otherwise the response names the route\'s', (t) => {
  const overridden = ['host', 'app', 'x-envoy-decorator-operation', 'caller-op'];
  t.is(decorateRequest(overridden, OP, true), undefined, 'overridden: the response does not name it');
  t.deepEqual(overridden, ['host', 'app']);
  const plain = ['host', 'app'];
  t.is(decorateRequest(plain, OP, true), OP);
  t.deepEqual(plain, ['host', 'app'], 'nothing added toward the app');
  const empty = ['host', 'app', 'x-envoy-decorator-operation', ''];
  t.is(decorateRequest(empty, OP, true), OP, 'an empty header is no override');
  t.deepEqual(empty, ['host', 'app']);
  t.is(decorateRequest(['host', 'app'], undefined, true), undefined);
  const response = ['content-length', '0', 'x-envoy-decorator-operation', 'app-op'];
  decorateResponse(response, OP, true);
  t.deepEqual(response, ['content-length', '0', 'x-envoy-decorator-operation', OP]);
  const none = ['content-length', '0'];
  decorateResponse(none, undefined, true);
  t.deepEqual(none, ['content-length', '0']);
});
