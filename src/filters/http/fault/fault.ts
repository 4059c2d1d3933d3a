import type { FaultPolicy } from '../../../config/model.js';
import type { HeaderList } from '../../network/http_connection_manager/codec/index.js';

export interface FaultDecision {
  delayMs: number;
  /** HTTP status to abort with, 0 for none. */
  abort: number;
}

const NONE: FaultDecision = { delayMs: 0, abort: 0 };

/**
 * Envoy's fault filter as Istio configures it from VirtualService `fault`: each of delay and
 * abort applies to the given percentage of requests, independently.
 */
export function applyFault(fault: FaultPolicy | undefined, _headers: HeaderList): FaultDecision {
  if (!fault) return NONE;
  const delayMs = fault.delay && Math.random() * 100 < fault.delay.percent ? fault.delay.fixedDelayMs : 0;
  const a = fault.abort;
  // An abort given as a gRPC status only: gRPC requests get that status (HTTP 200), others a 503.
  const status = a ? (a.httpStatus ?? (a.grpcStatus !== undefined ? 503 : 0)) : 0;
  const abort = status && Math.random() * 100 < a!.percent ? status : 0;
  return delayMs === 0 && abort === 0 ? NONE : { delayMs, abort };
}
