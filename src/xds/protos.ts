import { Buffer } from 'node:buffer';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { MethodDefinition } from '@grpc/grpc-js';

/**
 * The Envoy v3 protos as @grpc/grpc-js-xds vendors them (envoy-api, xds/udpa, googleapis,
 * protoc-gen-validate), plus Istio's NameTable, parsed once into one protobufjs Root. One Root
 * matters: Any fields are expanded to `{'@type', ...fields}` on decode (and packed on encode)
 * only for types that Root knows, so every extension the proxy reads is loaded here.
 * protobufjs directly, not @grpc/proto-loader: the loader would build a descriptor for each of
 * the several hundred messages (slower start) and does not expose the types needed for Any.
 */
const FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/filters/http/grpc_stats/v3/config.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/request_id/uuid/v3/uuid.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'udpa/type/v1/typed_struct.proto',
  'xds/type/v3/typed_struct.proto',
  'nds.proto',
];

/** How decoded messages look: field names as in the .proto (like Envoy's JSON dumps), enums by name, 64-bit ints as strings. */
export const DECODE_OPTIONS: protobuf.IConversionOptions = { json: true, longs: String, enums: String, bytes: String };

function includeDirs(): string[] {
  const require = createRequire(import.meta.url);
  const xds = dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  // dist/src/xds/protos.js and src/xds/protos.ts both reach <package>/src/xds/proto.
  const here = dirname(fileURLToPath(import.meta.url));
  const own = [join(here, 'proto'), join(here, '..', '..', '..', 'src', 'xds', 'proto')].find((d) => existsSync(join(d, 'nds.proto')));
  if (!own) throw new Error(`nds.proto not found next to ${here}`);
  // protobufjs bundles the well-known types but not descriptor.proto, which it ships as a file.
  const pbjs = dirname(require.resolve('protobufjs/package.json'));
  return [own, ...['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(xds, 'deps', d)), pbjs];
}

let root: protobuf.Root | undefined;

/** The shared Root, loaded on first use (about half a second). */
export function protoRoot(): protobuf.Root {
  if (root) return root;
  const dirs = includeDirs();
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => dirs.map((d) => join(d, target)).find((p) => existsSync(p)) ?? target;
  r.loadSync(FILES, { keepCase: true });
  r.resolveAll();
  root = r;
  return r;
}

export function messageType(fullName: string): protobuf.Type {
  return protoRoot().lookupType(fullName);
}

export function encode(fullName: string, obj: object): Buffer {
  const t = messageType(fullName);
  return Buffer.from(t.encode(t.fromObject(obj)).finish());
}

export function decode<T = Record<string, any>>(fullName: string, buf: Uint8Array): T {
  const t = messageType(fullName);
  return t.toObject(t.decode(buf), DECODE_OPTIONS) as T;
}

const ADS = '/envoy.service.discovery.v3.AggregatedDiscoveryService/';
const REQ = 'envoy.service.discovery.v3.DiscoveryRequest';
const RESP = 'envoy.service.discovery.v3.DiscoveryResponse';
const DREQ = 'envoy.service.discovery.v3.DeltaDiscoveryRequest';
const DRESP = 'envoy.service.discovery.v3.DeltaDiscoveryResponse';

function bidi(name: string, req: string, resp: string): MethodDefinition<Record<string, any>, Record<string, any>> {
  return {
    path: ADS + name,
    requestStream: true,
    responseStream: true,
    requestSerialize: (o) => encode(req, o),
    requestDeserialize: (b) => decode(req, b),
    responseSerialize: (o) => encode(resp, o),
    responseDeserialize: (b) => decode(resp, b),
  };
}

/** envoy.service.discovery.v3.AggregatedDiscoveryService, for a grpc-js client or server. */
export function adsService() {
  return {
    StreamAggregatedResources: bidi('StreamAggregatedResources', REQ, RESP),
    DeltaAggregatedResources: bidi('DeltaAggregatedResources', DREQ, DRESP),
  };
}
