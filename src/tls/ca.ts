// tsyringe (inside @peculiar/x509) needs the Reflect metadata polyfill loaded first.
import { Buffer } from 'node:buffer';
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * A small local certificate authority, standing in for istiod's CA so mTLS can be tried
 * without Kubernetes: a self-signed root, and leaf certificates carrying Istio's SPIFFE URI
 * SAN (`spiffe://<trust-domain>/ns/<ns>/sa/<sa>`) and/or DNS names. Keys are ECDSA P-256
 * (Istio's ECC option; smaller and quicker to handshake than its RSA-2048 default).
 */

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface IssuedPem {
  certPem: string;
  keyPem: string;
}

export interface RootCa extends IssuedPem {
  cert: x509.X509Certificate;
  key: CryptoKey;
}

/** Istio's workload identity URI. */
export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  // Backdated a little, as istiod does, so clocks slightly behind still accept it.
  const now = Date.now();
  return { notBefore: new Date(now - 5 * 60_000), notAfter: new Date(now + days * DAY_MS) };
}

/** A self-signed root, `O=<trust domain>` as Istio's self-signed CA names it. */
export async function createRoot(trustDomain: string, days = 3650): Promise<RootCa> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `O=${trustDomain}, CN=Legate local root CA`,
    keys,
    signingAlgorithm: SIGN_ALG,
    ...validity(days),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, key: keys.privateKey, certPem: cert.toString('pem') + '\n', keyPem: await keyPem(keys.privateKey) };
}

/** Loads a root written by `createRoot` (PEM certificate and PKCS#8 key). */
export async function loadRoot(certPem: string, keyPemText: string): Promise<RootCa> {
  const cert = new x509.X509Certificate(certPem);
  const der = Buffer.from(keyPemText.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const key = (await webcrypto.subtle.importKey('pkcs8', der, KEY_ALG, true, ['sign'])) as unknown as CryptoKey;
  return { cert, key, certPem, keyPem: keyPemText };
}

export interface LeafRequest {
  /** URI SANs, e.g. a SPIFFE id. */
  uris?: string[];
  /** DNS SANs (a server certificate for SIMPLE TLS). */
  dnsNames?: string[];
  days?: number;
}

/** A leaf certificate signed by `root`, usable as client and server (Istio's workload certificates are both). */
export async function issueLeaf(root: RootCa, req: LeafRequest): Promise<IssuedPem> {
  const keys = await newKeys();
  const sans: x509.JsonGeneralName[] = [...(req.uris ?? []).map((value) => ({ type: 'url' as const, value })), ...(req.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value }))];
  if (sans.length === 0) throw new Error('a certificate needs at least one SAN (--ns/--sa or --dns)');
  const cert = await x509.X509CertificateGenerator.create({
    // Istio's workload certificates have an empty subject; the SAN is the identity.
    subject: req.dnsNames?.length ? `CN=${req.dnsNames[0]}` : '',
    issuer: root.cert.subject,
    publicKey: keys.publicKey,
    signingKey: root.key,
    signingAlgorithm: SIGN_ALG,
    ...validity(req.days ?? 90),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(sans, sans.every((s) => s.type === 'url')),
      await x509.AuthorityKeyIdentifierExtension.create(root.cert),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await keyPem(keys.privateKey) };
}
