import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { certificateFingerprint, generateCertificate, InvalidCertificateError, parseCertificate } from './index.js';

describe('generateCertificate', () => {
  it('makes a self-signed leaf for the address, as ComputeHorde does (CN localhost, SAN localhost + the address)', async () => {
    const { certPem, keyPem } = await generateCertificate('10.1.2.3');
    const cert = parseCertificate(certPem);
    expect(cert.subject).toBe('CN=localhost');
    expect(cert.issuer).toBe('CN=localhost');
    expect(cert.ca).toBe(false);
    expect(cert.subjectAltName).toBe('DNS:localhost, IP Address:10.1.2.3');
    expect(cert.checkIssued(cert)).toBe(true);
    expect(new Date(cert.validTo).getTime() - Date.now()).toBeGreaterThan(364 * 86_400_000);
    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(keyPem))).toBe(true);
    expect(parseCertificate((await generateCertificate('miner.example')).certPem).subjectAltName).toBe('DNS:localhost, DNS:miner.example');
  });

  it('gives certificates that Node TLS accepts for mutual authentication, and only the pinned pair', async () => {
    const server = await generateCertificate('127.0.0.1');
    const client = await generateCertificate('127.0.0.1');
    const stranger = await generateCertificate('127.0.0.1');
    const tls = createServer(
      { cert: server.certPem, key: server.keyPem, ca: client.certPem, requestCert: true, rejectUnauthorized: true },
      (socket) => socket.end('hello'),
    );
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    const port = (tls.address() as AddressInfo).port;
    const talk = (key: { certPem: string; keyPem: string }) =>
      new Promise<string>((resolve, reject) => {
        const socket: TLSSocket = connect({
          host: '127.0.0.1',
          port,
          cert: key.certPem,
          key: key.keyPem,
          ca: server.certPem,
          checkServerIdentity: () => undefined,
        });
        let data = '';
        socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
    try {
      expect(await talk(client)).toBe('hello');
      // TLS 1.3: the client's handshake ends before the server checks its certificate; the server
      // then aborts, so the stranger sees an alert or an empty stream, never the server's data.
      const refused = await talk(stranger).catch((error: Error) => error.message);
      expect(refused).not.toBe('hello');
    } finally {
      tls.close();
    }
  });

  it('refuses what is not a certificate with a typed error', () => {
    expect(() => parseCertificate('-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n')).toThrow(InvalidCertificateError);
    expect(() => certificateFingerprint('hello')).toThrow(expect.objectContaining({ code: 'INVALID_CERTIFICATE' }));
  });
});
