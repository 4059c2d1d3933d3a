import type { Cluster } from '../../config/model.js';
import { LeastRequestPicker } from './least_request.js';
import { MaglevPicker } from './maglev.js';
import { RandomPicker } from './random.js';
import { RingHashPicker } from './ring_hash.js';
import { RoundRobinPicker } from './round_robin.js';
import type { PickerFactory } from './types.js';

export interface PolicyPickers {
  factory: PickerFactory;
  /** Whether endpoint weights count (Envoy's random balancer ignores them). */
  endpointWeights: boolean;
  /** Whether slow start applies (Envoy: round robin and least request only). */
  slowStart: boolean;
}

/** The picker for a cluster's lb_policy (ORIGINAL_DST clusters never get here). */
export function pickersFor(config: Cluster): PolicyPickers {
  switch (config.lbPolicy) {
    case 'LEAST_REQUEST':
      return { factory: (i) => new LeastRequestPicker(i), endpointWeights: true, slowStart: true };
    case 'RANDOM':
      return { factory: (i) => new RandomPicker(i), endpointWeights: false, slowStart: false };
    case 'RING_HASH':
      return { factory: (i) => new RingHashPicker(i, config.ringHash?.minimumRingSize), endpointWeights: true, slowStart: false };
    case 'MAGLEV':
      return { factory: (i) => new MaglevPicker(i, config.maglev?.tableSize), endpointWeights: true, slowStart: false };
    default:
      return { factory: (i) => new RoundRobinPicker(i), endpointWeights: true, slowStart: true };
  }
}

/** Balancers that read the request's hash key (the router computes it only for these). */
export const isHashPolicy = (config: Cluster): boolean => config.lbPolicy === 'RING_HASH' || config.lbPolicy === 'MAGLEV';
