/**
 * An ADS management server for e2e tests (test/support/xds_server.ts behind a fixed port):
 * `node xds_server.js --port PORT --service NAME --vip IP --upstream IP:PORT`, on 127.0.0.1 (run
 * it in the pod, like the pilot-agent's local xDS proxy in front of istiod).
 * Serves, as istiod would shape them, a virtualOutbound capture listener (loop guard only), an
 * HTTP listener on port 80 for the service, its route table and its EDS cluster with one
 * endpoint at --upstream. Prints `{ev:'listening', port}`; SIGTERM ends it.
 */
import { TestXdsServer } from '../../../support/xds_server.js';
import { assignment, edsCluster, httpListener, routeConfig } from '../../../support/xds_resources.js';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  if (i < 0) throw new Error(`xds_server: ${name} is required`);
  return args[i + 1]!;
};
const service = opt('--service');
const [upstreamIp, upstreamPort] = opt('--upstream').split(/:(?=\d+$)/);
const cluster = `outbound|80||${service}`;

const virtualOutbound = {
  name: 'virtualOutbound',
  address: { socket_address: { address: '0.0.0.0', port_value: 15001 } },
  use_original_dst: true,
  traffic_direction: 'OUTBOUND',
  filter_chains: [{
    name: 'virtualOutbound-blackhole',
    filter_chain_match: { destination_port: 15001 },
    filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', stat_prefix: 'BlackHoleCluster', cluster: 'BlackHoleCluster' } }],
  }],
};
const blackHole = { name: 'BlackHoleCluster', type: 'STATIC', connect_timeout: '10s' };

// The harness's TestXdsServer takes an ava context only for teardown; here the process is the scope.
const server = new TestXdsServer();
server.port = Number(opt('--port'));
await server.restart();
server.set('cluster', [edsCluster(cluster), blackHole]);
server.set('endpoint', [assignment(cluster, [Number(upstreamPort)], upstreamIp)]);
// The service's HTTP listener at VIP:80; its one chain matches any connection (no protocol sniffing needed).
const http = httpListener(80);
const vipListener = { ...http, name: `${opt('--vip')}_80`, address: { socket_address: { address: opt('--vip'), port_value: 80 } }, filter_chains: [{ filters: http.filter_chains[0].filters }] };
server.set('listener', [virtualOutbound, vipListener]);
server.set('route', [routeConfig('80', cluster)]);
process.stdout.write(JSON.stringify({ ev: 'listening', port: server.port }) + '\n');
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
