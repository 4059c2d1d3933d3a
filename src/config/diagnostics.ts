/** A problem found in configuration, printed as `file:line: Kind/namespace/name: field.path: message`. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  file: string;
  line: number;
  resource: string;
  path: string;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.resource ? `${d.resource}: ` : '';
  const field = d.path ? `${d.path}: ` : '';
  const tag = d.severity === 'warning' ? 'warning: ' : '';
  return `${d.file}:${d.line}: ${tag}${where}${field}${d.message}`;
}

export function hasErrors(diags: readonly Diagnostic[]): boolean {
  return diags.some((d) => d.severity === 'error');
}
