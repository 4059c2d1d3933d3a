import type { MirrorPolicy } from '../../../config/model.js';
import { BodyFraming, type UpstreamRequest, type UpstreamStreamCallbacks } from '../../../cluster/pool/upstream_request.js';
import type { HttpContext } from '../../network/http_connection_manager/http_context.js';
import { lastColon, setHeader, type HeaderList } from '../../network/http_connection_manager/codec/index.js';

/** Envoy's shadow host: the authority with `-shadow` appended to the host part. */
export function shadowAuthority(authority: string): string {
  const colon = lastColon(authority);
  return colon > 0 && !authority.includes(']', colon) ? `${authority.slice(0, colon)}-shadow${authority.slice(colon)}` : `${authority}-shadow`;
}

/** Reads and drops a mirrored response: its outcome never reaches the client. */
class ShadowStream implements UpstreamStreamCallbacks {
  onUpstreamInformational(): void {}
  onUpstreamHead(): void {}
  onUpstreamBody(): void {}
  onUpstreamComplete(): void {}
  onUpstreamReset(): void {}
  onUpstreamDrain(): void {}
  onUpstreamReadEnd(): void {}
  endAfterThrow(): void {}
}
const SHADOW = new ShadowStream();

/**
 * VirtualService `mirror` / `mirrors`: a fire-and-forget copy of the request to each mirror
 * cluster (for `percent` of requests), with the authority suffixed `-shadow` as Envoy does.
 * Only requests whose body is fully in hand are mirrored; failures are ignored.
 */
export function mirrorRequest(
  ctx: HttpContext,
  policies: readonly MirrorPolicy[],
  method: string,
  path: string,
  headers: HeaderList,
  authority: string,
  body: readonly Buffer[] | null,
): void {
  for (const policy of policies) {
    if (policy.percent < 100 && Math.random() * 100 >= policy.percent) continue;
    const cluster = ctx.cluster(policy.cluster);
    const host = cluster?.tlc.chooseHost(ctx.originalDst);
    if (!cluster || !host || body === null) continue;
    const h = headers.slice();
    setHeader(h, 'host', shadowAuthority(authority));
    ctx.pools.get(cluster.config, cluster.statsBase, host, cluster.breaker).acquire({
      onPoolReady(up: UpstreamRequest) {
        up.sendHeaders(SHADOW, method, path, h, body.length > 0 ? BodyFraming.Length : BodyFraming.None);
        for (const chunk of body) up.sendData(chunk);
        up.sendEnd(null);
      },
      // Fire and forget: no client waits on a shadow request.
      onPoolFailure() {},
      endAfterThrow() {},
    });
  }
}
