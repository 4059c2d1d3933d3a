import type { ExecutionContext } from 'ava';
import { ActiveStream } from '../../src/filters/network/http_connection_manager/active_stream.js';

type Method = (this: unknown, ...args: unknown[]) => unknown;
/** What a test tells its stream by: the request target, and the routed path once decoded. */
export interface StreamSeen {
  readonly head: { readonly target: string };
  readonly path: string;
}

/**
 * A bug, injected: ActiveStream's `method` throws once, for the first stream `mine` picks (the
 * file's other tests run at the same time and keep the real method), and is restored then or
 * at teardown. Returns whether the throw ran.
 */
export function throwOnceIn(t: ExecutionContext, method: string, mine: (stream: StreamSeen) => boolean): () => boolean {
  const proto = ActiveStream.prototype as unknown as Record<string, Method>;
  const real = proto[method]!;
  proto[method] = function (this: unknown, ...args: unknown[]) {
    if (!mine(this as StreamSeen)) return real.apply(this, args);
    proto[method] = real;
    throw new Error(`injected: a bug in ${method}`);
  };
  t.teardown(() => (proto[method] = real));
  return () => proto[method] === real;
}
