import { request } from 'node:https';

export interface MtlsTarget {
  readonly host: string;
  readonly port: number;
  /** The executor's server certificate (the only CA trusted). */
  readonly serverCertPem: string;
  readonly client: { readonly certPem: string; readonly keyPem: string };
}

/** One HTTPS request over mutual TLS; resolves with the status and body, rejects on a refused handshake. */
export function mtlsRequest(target: MtlsTarget, method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.host,
        port: target.port,
        method,
        path,
        ca: target.serverCertPem,
        cert: target.client.certPem,
        key: target.client.keyPem,
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (data += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}
