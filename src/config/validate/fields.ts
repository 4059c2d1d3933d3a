/**
 * Structural checks against a schema of the fields Istio defines: wrong types are errors,
 * unknown fields are warnings (Istio's CRDs prune them), and fields that Istio knows but
 * Legate does not implement are warnings that name the feature.
 */
export type Schema =
  | 's' // string
  | 'i' // integer
  | 'n' // number
  | 'b' // boolean
  | 'u' // any scalar
  | 'any'
  | { $list: Schema }
  | { $map: Schema }
  | { $unimpl: string; $of: Schema }
  | { $deprecated: string; $of: Schema }
  | { [field: string]: Schema };

export type Path = (string | number)[];
export type FieldReport = (path: Path, message: string, severity: 'error' | 'warning') => void;

const TYPE_NAME: Record<string, string> = { s: 'a string', i: 'an integer', n: 'a number', b: 'a boolean', u: 'a scalar' };

export const list = (of: Schema): Schema => ({ $list: of });
export const map = (of: Schema): Schema => ({ $map: of });
export const unimpl = (feature: string, of: Schema = 'any'): Schema => ({ $unimpl: feature, $of: of });
export const deprecated = (advice: string, of: Schema): Schema => ({ $deprecated: advice, $of: of });

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;
}

export function checkFields(value: unknown, schema: Schema, path: Path, report: FieldReport): void {
  if (value === undefined || value === null) return;
  if (typeof schema === 'string') {
    if (schema === 'any') return;
    const ok =
      schema === 's'
        ? typeof value === 'string'
        : schema === 'i'
          ? Number.isInteger(value)
          : schema === 'n'
            ? typeof value === 'number' && Number.isFinite(value)
            : schema === 'b'
              ? typeof value === 'boolean'
              : typeof value !== 'object';
    if (!ok) report(path, `expected ${TYPE_NAME[schema]}, got ${describe(value)}`, 'error');
    return;
  }
  if ('$unimpl' in schema) {
    report(path, `${schema.$unimpl} is not implemented: ignored`, 'warning');
    return;
  }
  if ('$deprecated' in schema) {
    report(path, `deprecated: ${schema.$deprecated}`, 'warning');
    return checkFields(value, schema.$of as Schema, path, report);
  }
  if ('$list' in schema) {
    if (!Array.isArray(value)) return report(path, `expected a list, got ${describe(value)}`, 'error');
    value.forEach((v, i) => checkFields(v, schema.$list as Schema, [...path, i], report));
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) return report(path, `expected a mapping, got ${describe(value)}`, 'error');
  if ('$map' in schema) {
    for (const [k, v] of Object.entries(value)) checkFields(v, schema.$map as Schema, [...path, k], report);
    return;
  }
  const fields = schema as Record<string, Schema>;
  for (const [k, v] of Object.entries(value)) {
    const sub = fields[k];
    if (sub === undefined) {
      report([...path, k], `unknown field "${k}": ignored`, 'warning');
      continue;
    }
    checkFields(v, sub, [...path, k], report);
  }
}
