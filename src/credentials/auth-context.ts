import type { ConnectionAuth } from "../transport/index.js";
import type { Socket } from "node:net";
import type { PeerCertificate, TLSSocket } from "node:tls";

/**
 * What the server verified about a connection, keyed as gRPC reports it (gRPC Python
 * `ServicerContext.auth_context()`): `transport_security_type` (`ssl`, `local` or
 * `insecure`), `security_level`, and under mutual TLS the verified client certificate's
 * `x509_common_name`, `x509_subject`, `x509_subject_alternative_name` (every DNS, URI,
 * email and IP entry), `peer_dns`, `peer_uri`, `peer_email`, `peer_ip`,
 * `peer_spiffe_id`, `x509_pem_cert` and `x509_pem_cert_chain`. Nothing comes from a
 * certificate the server did not verify.
 */
export type AuthContext = ConnectionAuth;

const INSECURE: AuthContext = Object.freeze({ transport_security_type: [Buffer.from("insecure")], security_level: [Buffer.from("TSI_SECURITY_NONE")] });
const LOCAL: AuthContext = Object.freeze({ transport_security_type: [Buffer.from("local")], security_level: [Buffer.from("TSI_PRIVACY_AND_INTEGRITY")] });

/** @internal The auth context of a call whose stream reports `recorded` about its connection (insecure if nothing). */
export function authContextOf(recorded: AuthContext | undefined): AuthContext {
  return recorded ?? INSECURE;
}

/** @internal The auth context of a local-credentials connection. */
export function localAuthContext(): AuthContext {
  return LOCAL;
}

/**
 * @internal The auth context of a TLS connection, from what the handshake verified:
 * the client certificate only if `socket.authorized` (it chained to the trusted CAs).
 */
export function tlsAuthContext(socket: Socket): AuthContext {
  const tls = socket as TLSSocket;
  const context: Record<string, Buffer[]> = {
    transport_security_type: [Buffer.from("ssl")],
    security_level: [Buffer.from("TSI_PRIVACY_AND_INTEGRITY")],
    ssl_session_reused: [Buffer.from(String(tls.isSessionReused?.() === true))],
  };
  const cert = tls.authorized === true ? tls.getPeerCertificate?.(true) : undefined;
  if (cert === undefined || cert === null || cert.raw === undefined) return Object.freeze(context);
  const add = (key: string, value: string) => (context[key] ??= []).push(Buffer.from(value));
  const subject = subjectString(cert);
  if (subject !== "") add("x509_subject", subject);
  const cn = cert.subject?.CN;
  for (const name of Array.isArray(cn) ? cn : cn === undefined ? [] : [cn]) add("x509_common_name", name);
  add("x509_pem_cert", toPemString(cert.raw));
  for (const [kind, value] of parseSubjectAltNames(cert.subjectaltname)) {
    add("x509_subject_alternative_name", value);
    if (kind === "DNS") add("peer_dns", value);
    else if (kind === "URI") add("peer_uri", value);
    else if (kind === "email") add("peer_email", value);
    else if (kind === "IP Address") add("peer_ip", value);
  }
  const uris = context["peer_uri"]?.filter((u) => u.toString().startsWith("spiffe://")) ?? [];
  // gRPC reports a SPIFFE id only when it is the certificate's one URI SAN.
  if (uris.length === 1 && context["peer_uri"]!.length === 1) context["peer_spiffe_id"] = uris;
  const chain: string[] = [];
  let issuer = (cert as { issuerCertificate?: PeerCertificate }).issuerCertificate;
  let last: PeerCertificate = cert;
  while (issuer !== undefined && issuer !== null && issuer !== last && issuer.raw !== undefined && chain.length < 16) {
    chain.push(toPemString(issuer.raw));
    last = issuer;
    issuer = (issuer as { issuerCertificate?: PeerCertificate }).issuerCertificate;
  }
  if (chain.length > 0) add("x509_pem_cert_chain", chain.join(""));
  return Object.freeze(context);
}

/**
 * The peer's identities (gRPC Python `ServicerContext.peer_identities()`): the values
 * of the identity key, or undefined when the peer was not authenticated.
 */
export function peerIdentitiesOf(context: AuthContext): Buffer[] | undefined {
  const key = peerIdentityKeyOf(context);
  return key === undefined ? undefined : [...context[key]!];
}

/**
 * Which auth-context key holds the peer's identity (gRPC Python
 * `ServicerContext.peer_identity_key()`): the certificate's subject alternative names
 * if it has any, else its common name; `transport_security_type` for local connections.
 */
export function peerIdentityKeyOf(context: AuthContext): string | undefined {
  if (context["x509_subject_alternative_name"] !== undefined) return "x509_subject_alternative_name";
  if (context["x509_common_name"] !== undefined) return "x509_common_name";
  if (context === LOCAL) return "transport_security_type";
  return undefined;
}

// Node: "DNS:a.example, URI:spiffe://x, IP Address:127.0.0.1, email:a@b" (values with
// commas or quotes are JSON-quoted).
function parseSubjectAltNames(text: string | undefined): [string, string][] {
  if (!text) return [];
  const out: [string, string][] = [];
  const re = /(DNS|URI|email|IP Address|[A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (let m = re.exec(text); m !== null && m[0] !== ""; m = re.exec(text)) {
    let value = m[2]!;
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        // keep it as written
      }
    }
    out.push([m[1]!, value]);
  }
  return out;
}

// gRPC prints the subject in RFC 2253 order (most specific first): "CN=x,O=y,C=US".
function subjectString(cert: PeerCertificate): string {
  const subject = cert.subject as unknown as Record<string, string | string[]> | undefined;
  if (!subject) return "";
  const parts: string[] = [];
  for (const [key, value] of Object.entries(subject)) {
    for (const v of Array.isArray(value) ? value : [value]) parts.push(`${key}=${v.replace(/([,+"\\<>;])/g, "\\$1")}`);
  }
  return parts.reverse().join(",");
}

function toPemString(der: Buffer): string {
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END CERTIFICATE-----\n`;
}
