/** The upstream's response bodies, shared by the Node upstream and the nginx upstream's files. */
export const BODIES: Record<string, Buffer> = {
  '/small': Buffer.from('ok'),
  '/1k': Buffer.alloc(1024, 'x'),
  '/64k': Buffer.alloc(64 * 1024, 'y'),
};
/** A gRPC unary message (5-byte length prefix + 2 bytes), request and response of the grpc_unary scenario. */
export const GRPC_MESSAGE = Buffer.from([0, 0, 0, 0, 2, 0x6f, 0x6b]);
/** Where the gRPC upstream answers (a static file: nginx adds the grpc-status trailer). */
export const GRPC_PATH = '/bench.Echo/Unary';

/** The request body of the fixed-rate latency scenario (Istio's published test uses 1 KB payloads). */
export const REQUEST_1K = Buffer.alloc(1024, 'q');
