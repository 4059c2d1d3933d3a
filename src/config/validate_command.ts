import { formatDiagnostic, hasErrors, type Diagnostic } from './diagnostics.js';
import { loadResources } from './resources.js';
import { translate } from './translate/index.js';
import { DEFAULT_TRANSLATE_OPTIONS } from './translate/context.js';

/** Everything `legate validate` reports: parse problems, then what translating as a sidecar and as a router finds. */
export function validatePaths(paths: string[]): Diagnostic[] {
  const loaded = loadResources(paths);
  if (hasErrors(loaded.diagnostics)) return loaded.diagnostics;
  const seen = new Set<string>();
  const out: Diagnostic[] = [...loaded.diagnostics];
  for (const role of ['sidecar', 'router'] as const) {
    for (const d of translate(loaded.resources, { ...DEFAULT_TRANSLATE_OPTIONS, role }).diagnostics) {
      const key = formatDiagnostic(d);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(d);
    }
  }
  return out.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
}

/** `legate validate PATH…`: exit 0, or 1 with one line per error on stdout (warnings on stderr). */
export function runValidate(paths: string[]): number {
  if (paths.length === 0) {
    process.stderr.write('usage: legate validate PATH…\n');
    return 2;
  }
  const diags = validatePaths(paths);
  for (const d of diags) (d.severity === 'error' ? process.stdout : process.stderr).write(formatDiagnostic(d) + '\n');
  return hasErrors(diags) ? 1 : 0;
}
