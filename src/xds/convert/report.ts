/**
 * What converting one xDS response found. A note is something the proxy does not do and
 * ignores without changing where traffic goes (Istio's telemetry filters, mTLS it cannot
 * terminate yet); an error is something whose absence would change routing, and rejects
 * the response (NACK). Notes are keyed by what they are about, so a fleet of identical
 * listeners reports a filter once.
 */
export class ConversionError extends Error {
  readonly code = 'EXDS_RESOURCE';
}

export class ConversionReport {
  readonly notes = new Map<string, string>();

  /** `key` groups repeats (e.g. the filter name); `text` says what was ignored and where first. */
  note(key: string, text: string): void {
    if (!this.notes.has(key)) this.notes.set(key, text);
  }

  fail(resource: string, message: string): never {
    throw new ConversionError(`${resource}: ${message}`);
  }
}
