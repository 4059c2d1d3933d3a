import { createHash, X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { ClientCertDetailFields } from '../config/model.js';
import { dnsSans, uriSans } from './workload_identity.js';

/** What Envoy's x-forwarded-client-cert says of a downstream client certificate, read once per handshake. */
export interface ClientCertificate {
  /** SHA-256 of the DER certificate, lower-case hex. */
  hash: string;
  /** The subject in RFC 2253 order (`CN=…,O=…`), empty when the certificate has none (Istio's workload certificates). */
  subject: string;
  uris: string[];
  dns: string[];
  /** URI SANs of the certificate this proxy presented (`By=`). */
  localUris: string[];
  der: Buffer;
  /** The element last formatted, and for which fields (a connection's filter rarely changes). */
  element?: { fields: ClientCertDetailFields; text: string };
}

/** The client certificate of a terminated connection, or undefined when the client sent none. */
export function clientCertificateOf(socket: TLSSocket): ClientCertificate | undefined {
  const peer = socket.getPeerCertificate();
  if (!peer || !peer.raw) return undefined;
  const der = peer.raw;
  const local = socket.getCertificate();
  return {
    hash: createHash('sha256').update(der).digest('hex'),
    subject: (new X509Certificate(der).subject ?? '').split('\n').filter(Boolean).reverse().join(','),
    uris: uriSans(peer.subjectaltname),
    dns: dnsSans(peer.subjectaltname),
    localUris: local && 'subjectaltname' in local ? uriSans(local.subjectaltname) : [],
    der,
  };
}

const ALL: ClientCertDetailFields = { subject: false, uri: false, dns: false, cert: false };

/**
 * One x-forwarded-client-cert element in Envoy's key order: By (this proxy's URI SANs), Hash,
 * then Cert, Subject, URI and DNS as set_current_client_cert_details asks.
 */
export function formatClientCertElement(c: ClientCertificate, fields: ClientCertDetailFields = ALL): string {
  if (c.element?.fields === fields) return c.element.text;
  const parts: string[] = [];
  for (const u of c.localUris) parts.push(`By=${u}`);
  parts.push(`Hash=${c.hash}`);
  if (fields.cert) parts.push(`Cert="${encodeURIComponent(pem(c.der))}"`);
  if (fields.subject) parts.push(`Subject="${c.subject.replace(/"/g, '\\"')}"`);
  // Envoy keeps the URI key when the certificate has no URI SAN.
  if (fields.uri) for (const u of c.uris.length > 0 ? c.uris : ['']) parts.push(`URI=${u}`);
  if (fields.dns) for (const d of c.dns) parts.push(`DNS=${d}`);
  const text = parts.join(';');
  c.element = { fields, text };
  return text;
}

function pem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}
