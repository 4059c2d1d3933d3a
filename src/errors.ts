/**
 * Errors cross worker boundaries as plain objects, where `instanceof` means nothing;
 * callers match on the stable `code` instead.
 */
export class LegateError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'LegateError';
  }
}

export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}
