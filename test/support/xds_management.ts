import type { ExecutionContext } from 'ava';
import * as grpc from '@grpc/grpc-js';
import { defaultMesh } from '../../src/config/mesh.js';
import type { Snapshot } from '../../src/config/model.js';
import type { SnapshotUpdate } from '../../src/config/snapshot_source.js';
import { nodeIdentity, nodeMessage } from '../../src/xds/node.js';
import { adsService } from '../../src/xds/protos.js';
import { startXdsServer, type RunningXdsServer } from '../../src/xds/server/command.js';
import { XdsSource } from '../../src/xds/source.js';

/** `legate xds-server` in-process on free loopback ports, serving `paths`. */
export async function startManagementServer(t: ExecutionContext, paths: string[], ports = { outboundPort: 15001, inboundPort: 15006 }): Promise<RunningXdsServer> {
  const s = await startXdsServer({ config: paths, address: '127.0.0.1', port: 0, debugPort: 0, ...ports });
  t.teardown(() => s.close());
  return s;
}

export async function syncz(s: RunningXdsServer): Promise<{ config_version: number; proxies: any[] }> {
  return (await fetch(`http://127.0.0.1:${s.debugPort}/debug/syncz`)).json() as Promise<any>;
}

/** Legate's own xDS client (what `legate proxy sidecar --xds` runs), in-process, as a proxy in `namespace`. */
export function legateClient(t: ExecutionContext, s: RunningXdsServer, opts: { pod: string; namespace: string; delta: boolean; role?: 'sidecar' | 'router'; labels?: Record<string, string> }): XdsSource {
  const role = opts.role ?? 'sidecar';
  const node = nodeIdentity(role, { POD_NAME: opts.pod, POD_NAMESPACE: opts.namespace, INSTANCE_IPS: '10.1.2.3' }, { labels: opts.labels, dnsCapture: true });
  const src = new XdsSource({ target: `127.0.0.1:${s.port}`, role, delta: opts.delta, node: nodeMessage(node), mesh: defaultMesh(), nameTable: true, backoffBaseMs: 50, backoffMaxMs: 200 });
  t.teardown(() => src.close());
  return src;
}

/** The next snapshot `src` emits that satisfies `pred`. */
export function nextSnapshot(src: XdsSource, pred: (s: Snapshot) => boolean, ms = 10_000): Promise<Snapshot> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no matching snapshot in time')), ms);
    const on = (u: SnapshotUpdate) => {
      if (!pred(u.snapshot)) return;
      clearTimeout(timer);
      src.off('update', on);
      resolve(u.snapshot);
    };
    src.on('update', on);
  });
}

/** A bare ADS stream (SotW, or Delta) for driving the server by hand (ACKs and NACKs of the test's choosing). */
export function rawAdsStream(t: ExecutionContext, s: RunningXdsServer, delta = false) {
  const Client = grpc.makeGenericClientConstructor(adsService() as unknown as grpc.ServiceDefinition, 'ads');
  const client = new Client(`127.0.0.1:${s.port}`, grpc.credentials.createInsecure()) as any;
  const call: grpc.ClientDuplexStream<any, any> = delta ? client.DeltaAggregatedResources() : client.StreamAggregatedResources();
  const responses: any[] = [];
  const waiters: ((r: any) => void)[] = [];
  call.on('data', (r: any) => {
    const waiter = waiters.shift();
    if (waiter) waiter(r);
    else responses.push(r);
  });
  call.on('error', () => {});
  t.teardown(() => {
    call.cancel();
    client.close();
  });
  return {
    send: (msg: any) => call.write(msg),
    next: (): Promise<any> => (responses.length > 0 ? Promise.resolve(responses.shift()) : new Promise((r) => waiters.push(r))),
  };
}
