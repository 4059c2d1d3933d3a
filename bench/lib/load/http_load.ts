import type { Endpoint } from '../types.js';

/** A closed-loop HTTP load run, whatever the tool. */
export interface HttpLoad {
  endpoint: Endpoint;
  path: string;
  connections: number;
  durSec: number;
  method?: 'GET' | 'POST';
  body?: Buffer;
  /** Send `Connection: close`: one request per connection (new connections per second). */
  close?: boolean;
  /** Load-generator threads (the load cores). */
  threads: number;
  tmp: string;
}

export interface HttpLoadResult {
  rps: number;
  requests: number;
  /** Connect/read/write/timeouts and non-2xx responses. */
  errors: number;
  /** [percentile, ms] */
  percentiles: [number, number][];
}

export const url = (l: HttpLoad) => `${l.endpoint.tls ? 'https' : 'http'}://${l.endpoint.host}:${l.endpoint.port}${l.path}`;
