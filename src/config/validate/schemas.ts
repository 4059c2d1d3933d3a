import { deprecated, list, map, unimpl, type Schema } from './fields.js';

/** The fields of Istio's networking.istio.io API (v1 / v1beta1 / v1alpha3 share them). */

const stringMatch: Schema = { exact: 's', prefix: 's', regex: 's' };
const portSelector: Schema = { number: 'i' };
const destination: Schema = { host: 's', subset: 's', port: portSelector };
const headerOps: Schema = { set: map('s'), add: map('s'), remove: list('s') };
const headers: Schema = { request: headerOps, response: headerOps };
const percent: Schema = { value: 'n' };
const labels = map('s');

const httpMatch: Schema = {
  name: 's',
  uri: stringMatch,
  scheme: stringMatch,
  method: stringMatch,
  authority: stringMatch,
  headers: map(stringMatch),
  port: 'i',
  sourceLabels: labels,
  gateways: list('s'),
  queryParams: map(stringMatch),
  ignoreUriCase: 'b',
  withoutHeaders: map(stringMatch),
  sourceNamespace: 's',
  statPrefix: unimpl('per-route stat prefixes (statPrefix)', 's'),
};

const httpRoute: Schema = {
  name: 's',
  match: list(httpMatch),
  route: list({ destination, weight: 'i', headers }),
  redirect: { uri: 's', authority: 's', port: 'i', derivePort: 's', scheme: 's', redirectCode: 'i' },
  directResponse: { status: 'i', body: { string: 's', bytes: 's' } },
  delegate: unimpl('VirtualService delegation (delegate)', { name: 's', namespace: 's' }),
  rewrite: { uri: 's', authority: 's', uriRegexRewrite: { match: 's', rewrite: 's' } },
  timeout: 's',
  retries: { attempts: 'i', perTryTimeout: 's', retryOn: 's', retryRemoteLocalities: 'b', backoff: unimpl('retry backoff', 's') },
  fault: {
    delay: { fixedDelay: 's', exponentialDelay: unimpl('exponential fault delays', 's'), percentage: percent, percent: deprecated('use percentage.value', 'i') },
    abort: { httpStatus: 'i', grpcStatus: 's', http2Error: 's', percentage: percent },
  },
  mirror: destination,
  mirrors: list({ destination, percentage: percent }),
  mirrorPercent: deprecated('use mirrorPercentage', 'i'),
  mirror_percent: deprecated('use mirrorPercentage', 'i'),
  mirrorPercentage: percent,
  corsPolicy: {
    allowOrigins: list(stringMatch),
    allowOrigin: deprecated('use allowOrigins', list('s')),
    allowMethods: list('s'),
    allowHeaders: list('s'),
    exposeHeaders: list('s'),
    maxAge: 's',
    allowCredentials: 'b',
    unmatchedPreflights: 's',
  },
  headers,
};

const l4Match: Schema = { destinationSubnets: list('s'), port: 'i', sourceLabels: labels, gateways: list('s'), sourceNamespace: 's', sourceSubnet: unimpl('sourceSubnet matches', 's') };
const routeDestination: Schema = { destination, weight: 'i' };

export const virtualServiceSpec: Schema = {
  hosts: list('s'),
  gateways: list('s'),
  http: list(httpRoute),
  tls: list({ match: list({ ...l4Match, sniHosts: list('s') }), route: list(routeDestination) }),
  tcp: list({ match: list(l4Match), route: list(routeDestination) }),
  exportTo: list('s'),
};

const loadBalancer: Schema = {
  simple: 's',
  consistentHash: {
    httpHeaderName: 's',
    httpCookie: { name: 's', path: 's', ttl: 's', attributes: unimpl('cookie attributes', 'any') },
    useSourceIp: 'b',
    httpQueryParameterName: 's',
    ringHash: { minimumRingSize: 'i' },
    maglev: { tableSize: 'i' },
    minimumRingSize: deprecated('use ringHash.minimumRingSize', 'i'),
  },
  localityLbSetting: {
    enabled: 'b',
    distribute: list({ from: 's', to: map('i') }),
    failover: list({ from: 's', to: 's' }),
    failoverPriority: list('s'),
  },
  warmupDurationSecs: 's',
  warmup: unimpl('warmup aggression settings', 'any'),
};

const connectionPool: Schema = {
  tcp: {
    maxConnections: 'i',
    connectTimeout: 's',
    tcpKeepalive: { probes: 'i', time: 's', interval: 's' },
    maxConnectionDuration: 's',
    idleTimeout: 's',
  },
  http: {
    http1MaxPendingRequests: 'i',
    http2MaxRequests: 'i',
    maxRequestsPerConnection: 'i',
    maxRetries: 'i',
    idleTimeout: 's',
    h2UpgradePolicy: 's',
    useClientProtocol: 'b',
    maxConcurrentStreams: 'i',
  },
};

const outlierDetection: Schema = {
  consecutiveErrors: deprecated('use consecutive5xxErrors', 'i'),
  splitExternalLocalOriginErrors: 'b',
  consecutiveLocalOriginFailures: 'i',
  consecutiveGatewayErrors: 'i',
  consecutive5xxErrors: 'i',
  interval: 's',
  baseEjectionTime: 's',
  maxEjectionPercent: 'i',
  minHealthPercent: 'i',
};

const clientTls: Schema = {
  mode: 's',
  clientCertificate: 's',
  privateKey: 's',
  caCertificates: 's',
  credentialName: 's',
  subjectAltNames: list('s'),
  sni: 's',
  insecureSkipVerify: 'b',
  caCrl: unimpl('certificate revocation lists (caCrl)', 's'),
};

const policyBlocks = { loadBalancer, connectionPool, outlierDetection, tls: clientTls };
const trafficPolicy: Schema = {
  ...policyBlocks,
  portLevelSettings: list({ port: portSelector, ...policyBlocks }),
  tunnel: unimpl('HTTP CONNECT tunnelling (trafficPolicy.tunnel)'),
  proxyProtocol: unimpl('PROXY protocol to upstreams (trafficPolicy.proxyProtocol)'),
};

export const destinationRuleSpec: Schema = {
  host: 's',
  trafficPolicy,
  subsets: list({ name: 's', labels, trafficPolicy }),
  exportTo: list('s'),
  workloadSelector: unimpl('DestinationRule workloadSelector', { matchLabels: labels }),
};

const workloadEntry: Schema = {
  address: 's',
  ports: map('i'),
  labels,
  network: 's',
  locality: 's',
  weight: 'i',
  serviceAccount: 's',
};

export const workloadEntrySpec: Schema = workloadEntry;

export const serviceEntrySpec: Schema = {
  hosts: list('s'),
  addresses: list('s'),
  ports: list({ number: 'i', protocol: 's', name: 's', targetPort: 'i' }),
  location: 's',
  resolution: 's',
  endpoints: list(workloadEntry),
  workloadSelector: { labels },
  exportTo: list('s'),
  subjectAltNames: list('s'),
};

const port: Schema = { number: 'i', protocol: 's', name: 's', targetPort: deprecated('targetPort has no effect on Gateways', 'i') };

export const gatewaySpec: Schema = {
  selector: labels,
  servers: list({
    port,
    bind: 's',
    hosts: list('s'),
    name: 's',
    defaultEndpoint: unimpl('Gateway server defaultEndpoint', 's'),
    tls: {
      httpsRedirect: 'b',
      mode: 's',
      serverCertificate: 's',
      privateKey: 's',
      caCertificates: 's',
      caCrl: unimpl('certificate revocation lists (caCrl)', 's'),
      credentialName: 's',
      credentialNames: list('s'),
      tlsCertificates: unimpl('multiple inline server certificates (tlsCertificates)'),
      subjectAltNames: list('s'),
      verifyCertificateSpki: list('s'),
      verifyCertificateHash: list('s'),
      minProtocolVersion: 's',
      maxProtocolVersion: 's',
      cipherSuites: list('s'),
    },
  }),
};

export const sidecarSpec: Schema = {
  workloadSelector: { labels },
  ingress: list({
    port: { number: 'i', protocol: 's', name: 's', targetPort: 'i' },
    bind: unimpl('Sidecar ingress bind addresses', 's'),
    captureMode: unimpl('Sidecar captureMode', 's'),
    defaultEndpoint: 's',
    tls: unimpl('Sidecar ingress TLS termination'),
    connectionPool: unimpl('Sidecar ingress connectionPool'),
  }),
  egress: list({
    port: { number: 'i', protocol: 's', name: 's', targetPort: 'i' },
    bind: unimpl('Sidecar egress bind addresses', 's'),
    captureMode: unimpl('Sidecar captureMode', 's'),
    hosts: list('s'),
  }),
  outboundTrafficPolicy: { mode: 's', egressProxy: unimpl('Sidecar egressProxy', destination) },
  inboundConnectionPool: unimpl('Sidecar inboundConnectionPool'),
};

export const SPECS: Record<string, Schema> = {
  VirtualService: virtualServiceSpec,
  DestinationRule: destinationRuleSpec,
  ServiceEntry: serviceEntrySpec,
  WorkloadEntry: workloadEntrySpec,
  Gateway: gatewaySpec,
  Sidecar: sidecarSpec,
};
