/**
 * Istio's probe rewrite: an app container's HTTP probes would be refused by the sidecar's
 * inbound capture (or need a client certificate under mTLS), and a TCP probe would always
 * succeed (the capture accepts every port), so the kubelet asks the proxy's
 * status port instead, at `/app-health/<container>/livez|readyz|startupz`, and the proxy
 * performs the original probe against the app. The originals travel in the sidecar's env
 * `ISTIO_KUBE_APP_PROBERS` (JSON keyed by the new path). Served on the status port (15020),
 * as pilot-agent does.
 */
import { PROXY_DEFAULTS } from '../main/options.js';

const KINDS = [
  ['livenessProbe', 'livez'],
  ['readinessProbe', 'readyz'],
  ['startupProbe', 'startupz'],
] as const;

/** One original probe as the proxy replays it. */
export interface AppProber {
  tcpSocket?: { port: number; host?: string };
  httpGet?: { path?: string; port: number; scheme?: string; host?: string; httpHeaders?: { name: string; value: string }[] };
  timeoutSeconds?: number;
}

export interface ProbeRewrite {
  /** Per app container index: the probe fields to replace. */
  replacements: { container: number; field: string; probe: Record<string, unknown> }[];
  probers: Record<string, AppProber>;
}

/** A named probe port resolved against the container's ports, as Kubernetes does. */
function resolvePort(port: unknown, container: Record<string, any>): number | undefined {
  if (typeof port === 'number') return port;
  if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port);
  const named = (container.ports ?? []).find((p: any) => p?.name === port);
  return typeof named?.containerPort === 'number' ? named.containerPort : undefined;
}

/** The rewrite of every HTTP and TCP probe of the app containers (exec and gRPC probes are left as they are). */
export function rewriteProbes(containers: Record<string, any>[]): ProbeRewrite {
  const out: ProbeRewrite = { replacements: [], probers: {} };
  containers.forEach((c, i) => {
    for (const [field, suffix] of KINDS) {
      const probe = c[field];
      const check = probe?.httpGet ?? probe?.tcpSocket;
      if (!check) continue;
      const port = resolvePort(check.port, c);
      if (port === undefined) continue;
      const path = `/app-health/${c.name}/${suffix}`;
      const timeout = probe.timeoutSeconds !== undefined ? { timeoutSeconds: probe.timeoutSeconds } : {};
      if (probe.httpGet) {
        const { path: origPath, scheme, host, httpHeaders } = probe.httpGet;
        out.probers[path] = {
          httpGet: { ...(origPath !== undefined && { path: origPath }), port, ...(scheme !== undefined && { scheme }), ...(host !== undefined && { host }), ...(httpHeaders !== undefined && { httpHeaders }) },
          ...timeout,
        };
      } else out.probers[path] = { tcpSocket: { port, ...(probe.tcpSocket.host !== undefined && { host: probe.tcpSocket.host }) }, ...timeout };
      const { tcpSocket: _tcp, ...rest } = probe;
      out.replacements.push({ container: i, field, probe: { ...rest, httpGet: { path, port: PROXY_DEFAULTS.statusPort, scheme: 'HTTP' } } });
    }
  });
  return out;
}
