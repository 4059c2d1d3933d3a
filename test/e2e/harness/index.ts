/** The e2e harness: network namespaces, a captured pod running the proxy, a remote host, real clients. */
export { Netns, asUser, type TestContext, type Link, type LinkEnd, type NsExecOptions, type SpawnOptions, type UserOptions } from './netns.js';
export { Proc, run, eventually, sleep, CommandError, type ExecResult, type ExitStatus } from './proc.js';
export { Pod, PORTS, PROXY_UID, type ProxyExit, type ProxyStartOptions } from './pod.js';
export { RemoteHost } from './remote.js';
export { startTcpServer, startHttpServer, TestServer, type AcceptEvent, type CloseEvent, type HttpRequestEvent, type HttpConnectionEvent, type TcpMode } from './servers.js';
export { tcpClient, tcpClients, pingClient, trafficClient, curl, APP_UID, type TcpClientOptions, type TcpClientResult, type TrafficSummary, type CurlResult } from './clients.js';
export { applyCapture, captureArgv, DEFAULT_CAPTURE, type CaptureOptions } from './iptables.js';
export { meshConfigMap, serviceEntry, virtualService, destinationRule, gateway, type MeshOptions, type ServiceEntryOptions } from './config.js';
export { requireE2eEnvironment, NOT_ROOT_MESSAGE } from './root.js';
export { podWithRemote, ECHO_PORT, DIGEST_PORT, type PodWithRemote, type PodWithRemoteOptions } from './scenario.js';
export {
  httpRequest, report, rawHttp, podWithHttp, accessLog, accessLogEntries, accessLogEntry, parseAccessLogText,
  type HttpResponse, type UpstreamReport, type PodWithHttp, type AccessLogEntry,
} from './http.js';
export { httpLoad, recordFaultCounts, FAULT_COUNTS_DIR, type LoadSummary, type LoadOptions, type FaultCounts } from './load.js';
export { rawClients, firstStatus, type RawCase, type RawResult } from './raw.js';
export { gatewayPod, type GatewayPodOptions } from './gateway.js';
export { startH2Server, startGrpcServer, grpcCalls, h2load, type GrpcResult, type H2loadSummary } from './h2.js';
export { meshPods, peerAuthentication, TestCa, type MeshPods } from './mesh.js';
export { GatewayHost } from './gateway_host.js';
export { DnsTestCa, startTlsServer, type CertFiles } from './tls.js';
