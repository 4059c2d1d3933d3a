import test from 'ava';
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { serviceEntry } from './config_helpers.js';
import { freePorts } from '../support/servers.js';

const run = promisify(execFile);
const ROOT = process.cwd();

/** The final stage's `COPY --from=<stage> /app/<src> ./<dest>` lines of the Dockerfile. */
function finalStageCopies(): { stage: string; src: string; dest: string }[] {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const finalStage = text.slice(text.lastIndexOf('\nFROM '));
  return [...finalStage.matchAll(/^COPY --from=(\S+) \/app\/(\S+) \.\/(\S+)$/gm)].map((m) => ({ stage: m[1], src: m[2], dest: m[3] }));
}

/**
 * No container engine runs here: the image's layout is rebuilt in a directory as the Dockerfile
 * lays it out — `deps` is `npm ci --omit=dev --ignore-scripts`, `build` is this built checkout
 * (node-gyp addon + tsc) — and the proxy is run from there, outside the repository.
 */
test('the Dockerfile layout (production dependencies + addon + dist) runs the proxy and the init mode', async (t) => {
  const copies = finalStageCopies();
  t.deepEqual(copies.map((c) => c.dest).sort(), ['bin', 'build/Release/legate_http1.node', 'build/Release/legate_native.node', 'dist/src', 'node_modules', 'package.json']);
  const image = mkdtempSync(join(tmpdir(), 'legate-image-'));
  t.teardown(() => rmSync(image, { recursive: true, force: true }));
  for (const c of copies) {
    const dest = join(image, c.dest);
    if (c.stage === 'deps') {
      t.is(c.src, 'node_modules');
      const deps = mkdtempSync(join(tmpdir(), 'legate-deps-'));
      t.teardown(() => rmSync(deps, { recursive: true, force: true }));
      for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(ROOT, f), join(deps, f));
      await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: deps });
      cpSync(join(deps, 'node_modules'), dest, { recursive: true });
    } else {
      t.is(c.stage, 'build');
      mkdirSync(dirname(dest), { recursive: true });
      cpSync(join(ROOT, c.src), dest, { recursive: true });
    }
  }
  t.false(existsSync(join(image, 'node_modules', 'ava')), 'no dev dependencies in the image');
  t.false(existsSync(join(image, 'dist', 'test')), 'no tests in the image');

  const rules = await run(process.execPath, [join(image, 'bin', 'legate.js'), 'iptables', '--dry-run', '-p', '15001', '-z', '15006', '-u', '1337', '-m', 'REDIRECT', '-i', '*', '-b', '*']);
  t.regex(rules.stdout, /-A ISTIO_OUTPUT .*--uid-owner 1337/, 'init mode');

  const config = join(image, 'config.yaml');
  writeFileSync(config, serviceEntry('web', { vip: '10.0.0.1' }));
  const [outbound, inbound, admin, readiness, prometheus, status] = await freePorts(6);
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [join(image, 'bin', 'legate.js'), 'proxy', 'sidecar', '--config', config, '--concurrency', '1',
    '--outbound-port', String(outbound), '--inbound-port', String(inbound), '--admin-port', String(admin), '--readiness-port', String(readiness), '--prometheus-port', String(prometheus), '--status-port', String(status)],
    { cwd: image, env: { PATH: process.env.PATH, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  t.teardown(() => void child.kill('SIGKILL'));
  let ready = 0;
  for (let i = 0; i < 200 && ready !== 200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    ready = await fetch(`http://127.0.0.1:${readiness}/healthz/ready`).then((r) => r.status, () => 0);
  }
  t.is(ready, 200, log);
  t.notRegex(log, /without the native addon/, 'the addon loads from build/Release');
  const info = await (await fetch(`http://127.0.0.1:${admin}/server_info`)).json();
  t.regex(info.version, /^legate\/\d+\.\d+\.\d+\//, 'package.json is where dist/src expects it');
  const clusters = await (await fetch(`http://127.0.0.1:${admin}/clusters`)).text();
  t.regex(clusters, /outbound\|80\|\|web\.default\.svc\.cluster\.local/);
});
