import test from 'ava';
import { ListenerTable } from '../../src/listener/listener_table.js';
import { sidecarListeners, tcpChain } from '../../src/config/translate/sidecar.js';
import { defaultMesh } from '../../src/config/mesh.js';
import { TCP_PROXY, type Listener, type Snapshot } from '../../src/config/model.js';
import { DEFAULT_TRANSLATE_OPTIONS } from '../../src/config/translate/context.js';

function table(policy: 'ALLOW_ANY' | 'REGISTRY_ONLY', extra: Listener[] = []): ListenerTable {
  const mesh = { ...defaultMesh(), outboundTrafficPolicy: policy };
  const base = sidecarListeners(mesh, DEFAULT_TRANSLATE_OPTIONS);
  const snapshot: Snapshot = { version: 1, source: 't', builtAt: '', role: 'sidecar', mesh, listeners: [...base.listeners, ...extra], routes: [], clusters: base.clusters };
  return new ListenerTable(snapshot);
}

const svc = (name: string, address: string, port: number, chains: Listener['filterChains'], dflt?: string): Listener => ({
  name,
  address: { address, port },
  trafficDirection: 'OUTBOUND',
  bindToPort: false,
  useOriginalDst: false,
  filterChains: chains,
  defaultFilterChain: dflt ? tcpChain(dflt, dflt, 0) : undefined,
});
const cluster = (s: ReturnType<ListenerTable['select']>) => {
  const f = s?.chain.filters[0];
  return f?.name === TCP_PROXY ? f.cluster : undefined;
};

test('unknown outbound destinations go to PassthroughCluster, or BlackHoleCluster with REGISTRY_ONLY', (t) => {
  t.is(cluster(table('ALLOW_ANY').select('virtualOutbound', { address: '10.1.2.3', port: 443 })), 'PassthroughCluster');
  t.is(cluster(table('REGISTRY_ONLY').select('virtualOutbound', { address: '10.1.2.3', port: 443 })), 'BlackHoleCluster');
});

test('the loop guard catches both capture ports on any address, and wins over services', (t) => {
  const tb = table('ALLOW_ANY', [svc('0.0.0.0_15001', '0.0.0.0', 15001, [], 'outbound|15001||evil')]);
  for (const dst of [{ address: '127.0.0.1', port: 15001 }, { address: '10.0.0.9', port: 15006 }]) {
    const s = tb.select('virtualOutbound', dst);
    t.is(cluster(s), 'BlackHoleCluster');
    t.is(s?.chain.name, 'virtualOutbound-blackhole');
    t.is(s?.chain.filters[0].statPrefix, 'virtualOutbound-blackhole');
  }
  t.is(tb.select('virtualInbound', { address: '10.0.0.9', port: 15001 })?.chain.name, 'virtualInbound-blackhole');
});

test('an exact <vip>_<port> listener wins over 0.0.0.0_<port>, whose CIDR chains are matched', (t) => {
  const tb = table('REGISTRY_ONLY', [
    svc('240.240.0.1_3306', '240.240.0.1', 3306, [], 'outbound|3306||db-a'),
    svc('0.0.0.0_3306', '0.0.0.0', 3306, [tcpChain('outbound|3306||db-net', 'outbound|3306||db-net', 0, { destinationPort: 3306, prefixRanges: ['10.8.0.0/16'] })], 'outbound|3306||db-any'),
  ]);
  t.is(cluster(tb.select('virtualOutbound', { address: '240.240.0.1', port: 3306 })), 'outbound|3306||db-a');
  t.is(cluster(tb.select('virtualOutbound', { address: '10.8.3.4', port: 3306 })), 'outbound|3306||db-net');
  t.is(cluster(tb.select('virtualOutbound', { address: '10.9.3.4', port: 3306 })), 'outbound|3306||db-any');
  t.is(cluster(tb.select('virtualOutbound', { address: '10.9.3.4', port: 3307 })), 'BlackHoleCluster');
});

test('inbound connections go to InboundPassthroughCluster', (t) => {
  t.is(cluster(table('ALLOW_ANY').select('virtualInbound', { address: '10.0.0.9', port: 8080 })), 'InboundPassthroughCluster');
  t.is(table('ALLOW_ANY').select('nope', { address: '10.0.0.9', port: 8080 }), undefined);
});
