/**
 * Self-signed X.509 certificates for streaming jobs, as ComputeHorde's
 * `compute_horde_core/certificate.py: generate_certificate` makes them: RSA 2048, SHA-256, CN
 * `localhost`, valid for a year, not a CA, subject alternative names `localhost` and the given
 * address (an IP address entry when it is one, else a DNS name). The SDK makes one for the client
 * (address `127.0.0.1`, as the original), the executor one for its public address.
 *
 * Built on `@peculiar/x509` over Node's WebCrypto, so key generation is native and no openssl
 * binary is needed at run time.
 */
import { webcrypto, X509Certificate as NodeX509Certificate, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
// @peculiar/x509 registers its parts with tsyringe, which needs the Reflect polyfill loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { HordeError } from '../errors.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;
const VALID_DAYS = 365;

/** A certificate and its private key, both PEM. */
export interface CertificateAndKey {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A PEM that is not one X.509 certificate. */
export class InvalidCertificateError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_CERTIFICATE', message, options);
  }
}

export async function generateCertificate(alternativeName: string): Promise<CertificateAndKey> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const altName = isIP(alternativeName)
    ? { type: 'ip' as const, value: alternativeName }
    : { type: 'dns' as const, value: alternativeName };
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    // A positive 16-byte serial (the high bit cleared), as x509.random_serial_number() is.
    serialNumber: Buffer.from(randomBytes(16).map((byte, index) => (index === 0 ? byte & 0x7f : byte))).toString('hex'),
    name: 'CN=localhost',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + VALID_DAYS * 86_400_000),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'localhost' }, altName], false),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { certPem: cert.toString('pem') + '\n', keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') + '\n' };
}

/** Parses one PEM certificate (Node's own parser); `InvalidCertificateError` when it is not one. */
export function parseCertificate(pem: string): NodeX509Certificate {
  try {
    return new NodeX509Certificate(pem);
  } catch (error) {
    throw new InvalidCertificateError(`not a PEM X.509 certificate: ${(error as Error).message}`, { cause: error });
  }
}

/** SHA-256 fingerprint of a PEM certificate, `AA:BB:…` as Node prints `fingerprint256`. */
export function certificateFingerprint(pem: string): string {
  return parseCertificate(pem).fingerprint256;
}
