import { readFileSync } from 'node:fs';
import { LegateError } from '../errors.js';
import { injectYaml } from '../inject/inject.js';
import { defaultInjectOptions, meshFromFile } from '../inject/options.js';

const USAGE = 'usage: legate inject [-f FILE|-] [--meshConfig FILE] [--image IMAGE] [--cni]';

/** `legate inject`: like `istioctl kube-inject`, YAML in (file or stdin), injected YAML on stdout. */
export function runInject(args: string[]): number {
  let file = '-';
  let meshFile: string | undefined;
  let opts = defaultInjectOptions();
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s, 2);
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new LegateError('EUSAGE', `${flag} needs a value\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '-f': case '--filename': file = value(); break;
      case '--meshConfig': case '--meshConfigFile': meshFile = value(); break;
      case '--image': opts.image = value(); break;
      case '--cni': opts.cni = true; break;
      default: throw new LegateError('EUSAGE', `unknown flag ${JSON.stringify(args[i])}\n${USAGE}`);
    }
  }
  if (meshFile) opts = meshFromFile(meshFile, opts);
  const text = readFileSync(file === '-' ? 0 : file, 'utf8');
  const { output, notes } = injectYaml(text, opts);
  for (const n of notes) process.stderr.write(n + '\n');
  process.stdout.write(output);
  return 0;
}
