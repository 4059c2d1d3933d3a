/** The upstream's response bodies, shared by the Node upstream and the nginx upstream's files. */
export const BODIES: Record<string, Buffer> = {
  '/small': Buffer.from('ok'),
  '/1k': Buffer.alloc(1024, 'x'),
  '/64k': Buffer.alloc(64 * 1024, 'y'),
};
/** The request body of the fixed-rate latency scenario (Istio's published test uses 1 KB payloads). */
export const REQUEST_1K = Buffer.alloc(1024, 'q');
