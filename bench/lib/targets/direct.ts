import type { Target } from '../types.js';
import { redirectedEndpoint } from './endpoint.js';

/** No proxy: the client reaches the upstream through the same VIP redirect the others use. */
export const direct: Target = {
  id: 'direct',
  label: 'direct (no proxy)',
  layer: 'none',
  serves: ['http', 'tcp-source', 'grpc'],
  unavailable: () => undefined,
  async start({ upstream, upstreamKind }) {
    const { endpoint, remove } = redirectedEndpoint(upstreamKind, upstream.port);
    return { endpoint, stop: async () => remove() };
  },
};
