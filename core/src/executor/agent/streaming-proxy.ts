/**
 * The TLS end of a streaming job (ComputeHorde runs an nginx container for this; here it is a Node
 * server inside the executor agent, so no image from a registry is needed). It listens on the
 * executor's public port with the executor's server certificate, requires a client certificate,
 * accepts only the one the SDK sent with the job (verified as its own CA, then pinned by SHA-256
 * fingerprint), and pipes each accepted connection to the job's server, which itself is reachable
 * only from this machine (an internal Docker network, or loopback for the process runner).
 */
import { connect as connectTcp, type AddressInfo, type Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { JobServerAddress, Logger } from '../../contracts/index.js';
import { HordeError } from '../../errors.js';
import { certificateFingerprint, type CertificateAndKey } from '../../tls/index.js';

/** The job's own server, as the runner reports it once the job started. */
export type StreamingTarget = JobServerAddress;

export interface StreamingProxyOptions {
  readonly server: CertificateAndKey;
  /** The SDK's certificate (PEM): the only client let through. */
  readonly clientCertPem: string;
  /** Where to listen: the executor's public interface and port (0 = any free port). */
  readonly listenHost: string;
  readonly listenPort: number;
  readonly logger: Logger;
  /** TLS handshakes that take longer are dropped (a client that never finishes holds nothing). */
  readonly handshakeTimeoutMs?: number;
  /** Open connections at once (default 256); more are refused by the server. */
  readonly maxConnections?: number;
}

const DEFAULT_MAX_CONNECTIONS = 256;

/** The proxy could not listen (port taken, bad address). */
export class StreamingProxyError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STREAMING_PROXY_FAILED', message, options);
  }
}

export class StreamingProxy {
  private target: StreamingTarget | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly expectedFingerprint: string;
  /** Client connections refused for their certificate (logs and tests). */
  refused = 0;

  private constructor(
    private readonly tls: Server,
    private readonly log: Logger,
    clientCertPem: string,
  ) {
    this.expectedFingerprint = certificateFingerprint(clientCertPem);
  }

  static async start(options: StreamingProxyOptions): Promise<StreamingProxy> {
    const tls = createServer({
      cert: options.server.certPem,
      key: options.server.keyPem,
      ca: options.clientCertPem,
      requestCert: true,
      rejectUnauthorized: true,
      handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
    });
    // Bounds what a flood of half-open handshakes can hold (the job's own clients need few).
    tls.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    const proxy = new StreamingProxy(tls, options.logger, options.clientCertPem);
    tls.on('secureConnection', (socket) => proxy.accept(socket));
    tls.on('tlsClientError', (error, socket) => {
      proxy.refused += 1;
      proxy.log.warn(
        { err: error, remote: socket.remoteAddress },
        'streaming client refused: TLS handshake failed (no or wrong client certificate)',
      );
    });
    tls.on('connection', (socket: Socket) => proxy.track(socket));
    await new Promise<void>((resolve, reject) => {
      tls.once('error', (error) =>
        reject(
          new StreamingProxyError(`could not listen on ${options.listenHost}:${options.listenPort}: ${error.message}`, { cause: error }),
        ),
      );
      tls.listen(options.listenPort, options.listenHost, () => resolve());
    });
    tls.on('error', (error) => proxy.log.error({ err: error }, 'streaming proxy error'));
    return proxy;
  }

  get port(): number {
    return (this.tls.address() as AddressInfo).port;
  }

  /** Where accepted connections go; until it is set they are closed. */
  setTarget(target: StreamingTarget): void {
    this.target = target;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private accept(client: TLSSocket): void {
    // `ca` already made Node verify the certificate; pinning the fingerprint as well keeps a
    // certificate that merely chains to it (were the client's a CA) out.
    const fingerprint = client.getPeerCertificate().fingerprint256;
    if (fingerprint !== this.expectedFingerprint) {
      this.refused += 1;
      this.log.warn({ remote: client.remoteAddress, fingerprint }, 'streaming client refused: not the certificate sent with the job');
      client.destroy();
      return;
    }
    const target = this.target;
    if (!target) {
      this.log.warn({ remote: client.remoteAddress }, 'streaming client arrived before the job server was up; closed');
      client.destroy();
      return;
    }
    const upstream = connectTcp({ host: target.host, port: target.port });
    this.track(upstream);
    const drop = (error?: Error) => {
      if (error) this.log.debug({ err: error }, 'streaming connection ended with an error');
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Stops listening and cuts every open connection. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.tls.close(() => resolve()));
  }
}

/** ComputeHorde's `WAIT_FOR_STREAMING_JOB_TIMEOUT`: how long the job's server may take to answer /health. */
export const STREAMING_HEALTH_TIMEOUT_MS = 25_000;

/**
 * Polls `http://target/health` about once a second (`check_endpoint`) until it answers 200;
 * false when `timeoutMs` passes (or `signal` aborts) first.
 */
export async function waitForHealth(target: StreamingTarget, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  const url = `http://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}/health`;
  while (Date.now() < end && !signal?.aborted) {
    const attempt = Math.max(1, Math.min(1_000, end - Date.now()));
    const started = Date.now();
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(attempt), redirect: 'manual' });
      await response.body?.cancel();
      if (response.status === 200) return true;
    } catch {
      // not up yet
    }
    const pause = 1_000 - (Date.now() - started);
    if (pause > 0 && Date.now() + pause < end) await new Promise((resolve) => setTimeout(resolve, pause));
    else if (pause > 0) break;
  }
  return false;
}
