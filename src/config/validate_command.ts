import { formatDiagnostic, hasErrors } from './diagnostics.js';
import { loadResources } from './resources.js';
import { translate } from './translate/index.js';
import { DEFAULT_TRANSLATE_OPTIONS } from './translate/context.js';

/** `legate validate PATH…`: exit 0, or 1 with one line per error (warnings on stderr). */
export function runValidate(paths: string[]): number {
  if (paths.length === 0) {
    process.stderr.write('usage: legate validate PATH…\n');
    return 2;
  }
  const loaded = loadResources(paths);
  const diags = [...loaded.diagnostics, ...(hasErrors(loaded.diagnostics) ? [] : translate(loaded.resources, DEFAULT_TRANSLATE_OPTIONS).diagnostics)];
  for (const d of diags) (d.severity === 'error' ? process.stdout : process.stderr).write(formatDiagnostic(d) + '\n');
  return hasErrors(diags) ? 1 : 0;
}
