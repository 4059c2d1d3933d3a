import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, release, totalmem } from 'node:os';
import { CORES } from './cpus.js';
import { REPO } from './paths.js';
import { runCapture } from './proc.js';
import type { Machine, Tools } from './types.js';

function firstLine(argv: string[], pattern?: RegExp): string | undefined {
  try {
    // Some tools print their version on stderr or exit non-zero with --version.
    const out = runCapture(['sh', '-c', `${argv.join(' ')} 2>&1 || true`], { timeoutMs: 10_000 });
    const line = out.split('\n').find((l) => (pattern ? pattern.test(l) : l.trim())) ?? '';
    return line.trim() || undefined;
  } catch {
    return undefined;
  }
}

function npmVersion(name: string): string | undefined {
  try {
    const require = createRequire(`${REPO}/package.json`);
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The machine and every peer's version, for the report. */
export function describeMachine(tools: Tools): Machine {
  const versions: Record<string, string> = {};
  const put = (k: string, v: string | undefined) => v && (versions[k] = v);
  const version = (argv: string[], re: RegExp) => re.exec(firstLine(argv, re) ?? '')?.[1];
  if (tools.haproxy) put('haproxy', version(['haproxy', '-v'], /version (\S+)/i));
  if (tools.nginx) put('nginx', version(['nginx', '-v'], /nginx\/(\S+)/));
  if (tools.wrk) put('wrk', version(['wrk', '-v'], /^wrk (\S+)/));
  if (tools.h2load) put('h2load', version(['h2load', '--version'], /nghttp2\/(\S+)/));
  for (const p of ['autocannon', 'http-proxy', 'fastify', '@fastify/http-proxy', 'hdr-histogram-js']) put(p, npmVersion(p));
  let commit = 'unknown';
  try {
    commit = runCapture(['git', '-C', REPO, 'rev-parse', '--short', 'HEAD']).trim();
    if (runCapture(['git', '-C', REPO, 'status', '--porcelain', '--untracked-files=no']).trim()) commit += '-dirty';
  } catch {
    /* not a checkout */
  }
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: CORES,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    os: osName(),
    node: process.version,
    legateCommit: commit,
    versions,
  };
}

const has = (bin: string) => {
  try {
    runCapture(['sh', '-c', `command -v ${bin}`]);
    return true;
  } catch {
    return false;
  }
};

export function detectTools(nginxStreamModule: () => boolean): Tools {
  const nginx = has('nginx');
  return { wrk: has('wrk'), h2load: has('h2load'), nginx, nginxStream: nginx && nginxStreamModule(), haproxy: has('haproxy') };
}
