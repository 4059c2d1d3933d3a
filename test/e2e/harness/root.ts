import { run } from './proc.js';

export const NOT_ROOT_MESSAGE = 'e2e tests need root for network namespaces: run as root';

const TOOLS: [string, string][] = [
  ['ip', 'iproute2'],
  ['iptables-restore', 'iptables'],
  ['iptables-save', 'iptables'],
  ['setpriv', 'util-linux'],
  ['curl', 'curl'],
];

let checked: Promise<void> | undefined;

/**
 * Throws (so the test fails, never skips) unless the tests run as root with the tools the
 * harness needs. Netns.create calls it; tests may call it first for an earlier failure.
 */
export function requireE2eEnvironment(): Promise<void> {
  checked ??= (async () => {
    if (process.platform !== 'linux' || typeof process.getuid !== 'function' || process.getuid() !== 0) throw new Error(NOT_ROOT_MESSAGE);
    const missing: string[] = [];
    for (const [cmd, pkg] of TOOLS) {
      const r = await run(['sh', '-c', `command -v ${cmd}`], { check: false });
      if (r.code !== 0) missing.push(`${cmd} (Debian package ${pkg})`);
    }
    if (missing.length) throw new Error(`e2e tests need ${missing.join(', ')}: run scripts/install-test-deps.sh`);
  })();
  return checked;
}
