import { getHeader, removeHeader, setHeader, type HeaderList } from '../../network/http_connection_manager/codec/index.js';

/**
 * Envoy's route decorator header: the tracing operation of the matched route (istiod writes
 * `host:port/path*`), passed between the two proxies of a hop so that both name the span alike.
 * Which side says it follows the listener's direction (Envoy's tracing operation name):
 * - egress (sidecar outbound, gateways): the request to the upstream carries the route's
 *   operation; one in the upstream's response only names the span and is dropped;
 * - ingress (sidecar inbound): a caller's header overrides the operation and is not passed to
 *   the app; otherwise the response carries the route's operation back.
 */
export const DECORATOR_OPERATION = 'x-envoy-decorator-operation';

/**
 * Request side, once the route is known. Returns the operation the response should carry
 * (ingress only; undefined when there is none to send).
 */
export function decorateRequest(h: HeaderList, operation: string | undefined, ingress: boolean): string | undefined {
  if (!ingress) {
    if (operation) setHeader(h, DECORATOR_OPERATION, operation);
    return undefined;
  }
  const override = getHeader(h, DECORATOR_OPERATION);
  if (override === undefined) return operation || undefined;
  removeHeader(h, DECORATOR_OPERATION);
  // An empty override is no override: Envoy drops the header and keeps the route's operation.
  return override === '' ? operation || undefined : undefined;
}

/** Response side, after the route's response mutations (the connection manager has the last word). */
export function decorateResponse(h: HeaderList, responseOperation: string | undefined, ingress: boolean): void {
  if (ingress) {
    if (responseOperation !== undefined) setHeader(h, DECORATOR_OPERATION, responseOperation);
  } else removeHeader(h, DECORATOR_OPERATION);
}
