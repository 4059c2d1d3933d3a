import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LegateError } from '../errors.js';
import { createRoot, issueLeaf, loadRoot, spiffeId } from '../tls/ca.js';
import { IDENTITY_FILES } from '../tls/workload_identity.js';
import { loadResources } from '../config/resources.js';
import { translate } from '../config/translate/index.js';
import { DEFAULT_TRANSLATE_OPTIONS } from '../config/translate/context.js';

const USAGE = `usage:
  legate ca root --ca-dir DIR [--trust-domain cluster.local] [--days 3650]
      writes DIR/root-cert.pem and DIR/root-key.pem (kept if they exist)
  legate ca issue --ca-dir DIR --out DIR [--ns NS --sa SA] [--trust-domain cluster.local | --config PATH] [--dns NAME]… [--days 90] [--layout istio|tls]
      --config: the trust domain is the mesh ConfigMap's trustDomain, as the proxies read it
      istio (default): OUT/cert-chain.pem, key.pem, root-cert.pem (Istio's /etc/certs layout)
      tls: OUT/tls.crt, tls.key, ca.crt (a Kubernetes TLS secret, for gateways' credentialName)
`;

/** Written beside each other and renamed into place, so a watcher never reads half a rotation. */
function writeAll(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, `.${name}.tmp`), text, { mode: name.includes('key') ? 0o600 : 0o644 });
  for (const name of Object.keys(files)) renameSync(join(dir, `.${name}.tmp`), join(dir, name));
}

interface CaArgs {
  caDir?: string;
  out?: string;
  ns?: string;
  sa?: string;
  trustDomain: string;
  dns: string[];
  days?: number;
  layout: 'istio' | 'tls';
  config: string[];
}

function parse(args: string[]): CaArgs {
  const a: CaArgs = { trustDomain: 'cluster.local', dns: [], layout: 'istio', config: [] };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value = args[++i];
    if (value === undefined) throw new LegateError('EUSAGE', `${flag} needs a value\n${USAGE}`);
    if (flag === '--ca-dir') a.caDir = value;
    else if (flag === '--out') a.out = value;
    else if (flag === '--ns') a.ns = value;
    else if (flag === '--sa') a.sa = value;
    else if (flag === '--trust-domain') a.trustDomain = value;
    else if (flag === '--dns') a.dns.push(value);
    else if (flag === '--config') a.config.push(value);
    else if (flag === '--days' && /^\d+$/.test(value)) a.days = Number(value);
    else if (flag === '--layout' && (value === 'istio' || value === 'tls')) a.layout = value;
    else throw new LegateError('EUSAGE', `bad flag ${flag} ${JSON.stringify(value)}\n${USAGE}`);
  }
  if (!a.caDir) throw new LegateError('EUSAGE', `--ca-dir is required\n${USAGE}`);
  // MeshConfig trustDomain from the same files the proxies read (their `istio` ConfigMap).
  if (a.config.length) a.trustDomain = translate(loadResources(a.config).resources, DEFAULT_TRANSLATE_OPTIONS).mesh.trustDomain;
  return a;
}

/** `legate ca root|issue`: a local CA in place of istiod's, for trying mTLS without Kubernetes. */
export async function runCa(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'root' && sub !== 'issue') {
    process.stderr.write(USAGE);
    return 2;
  }
  const a = parse(rest);
  const certPath = join(a.caDir!, 'root-cert.pem');
  const keyPath = join(a.caDir!, 'root-key.pem');
  if (sub === 'root') {
    if (existsSync(certPath) && existsSync(keyPath)) return 0;
    const root = await createRoot(a.trustDomain, a.days);
    writeAll(a.caDir!, { 'root-cert.pem': root.certPem, 'root-key.pem': root.keyPem });
    return 0;
  }
  if (!a.out) throw new LegateError('EUSAGE', `--out is required\n${USAGE}`);
  if ((a.ns === undefined) !== (a.sa === undefined)) throw new LegateError('EUSAGE', `--ns and --sa go together\n${USAGE}`);
  const root = await loadRoot(readFileSync(certPath, 'utf8'), readFileSync(keyPath, 'utf8'));
  const uris = a.ns !== undefined ? [spiffeId(a.trustDomain, a.ns, a.sa!)] : [];
  const leaf = await issueLeaf(root, { uris, dnsNames: a.dns, days: a.days });
  if (a.layout === 'tls') writeAll(a.out, { 'tls.crt': leaf.certPem, 'tls.key': leaf.keyPem, 'ca.crt': root.certPem });
  else writeAll(a.out, { [IDENTITY_FILES.chain]: leaf.certPem, [IDENTITY_FILES.key]: leaf.keyPem, [IDENTITY_FILES.root]: root.certPem });
  return 0;
}
