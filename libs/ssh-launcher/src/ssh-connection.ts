import { createHash } from 'node:crypto';
import type { Logger } from '@horde/core';
import { Client, type ClientChannel } from 'ssh2';
import { SshAuthError, SshConnectError, SshHostKeyError, SshKeyReadError } from './errors.js';
import { hostKeyFingerprint, type HostKeyVerifier } from './host-key.js';

/** Where and as whom to connect. */
export interface SshTarget {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** The private key itself (OpenSSH or PEM text). */
  readonly privateKey: string | Buffer;
  /** Passphrase of an encrypted private key. */
  readonly passphrase?: string;
  /** Whether to trust the host key the server presents (see `pinnedHostKeys`, `firstUseHostKey`). */
  readonly verifyHostKey: HostKeyVerifier;
  /**
   * Separates targets that share an address and a key, so they get their own connections: e.g. two
   * rented instances behind one SSH proxy. Connections are shared per (address, user, key, scope).
   */
  readonly scope?: string;
}

export interface SshConnectionSettings {
  /** Milliseconds for TCP connect + handshake + authentication (ComputeHorde: 15 s). */
  readonly connectTimeoutMs: number;
  /** Milliseconds between SSH keepalives (ComputeHorde: 30 s); 3 unanswered ones drop the connection. */
  readonly keepaliveIntervalMs: number;
}

/** `user@host:port`, for messages and logs. */
export function describeTarget(target: Pick<SshTarget, 'host' | 'port' | 'username'>): string {
  return `${target.username}@${target.host}:${target.port}`;
}

/** One authenticated SSH connection. Channels (exec requests) share it. */
export class SshConnection {
  private closedFlag = false;
  private readonly closeListeners = new Set<() => void>();
  /** Resolves when the connection is gone (closed by either side, or lost). */
  readonly closed: Promise<void>;

  private constructor(
    private readonly client: Client,
    readonly target: SshTarget,
    logger: Logger,
  ) {
    this.closed = new Promise((resolve) =>
      client.once('close', () => {
        this.closedFlag = true;
        logger.info({ host: describeTarget(target) }, 'ssh connection closed');
        for (const listener of this.closeListeners) listener();
        this.closeListeners.clear();
        resolve();
      }),
    );
    // After the handshake, errors (keepalive timeout, reset) are followed by 'close'; log them.
    client.on('error', (error) => logger.warn({ err: error, host: describeTarget(target) }, 'ssh connection error'));
  }

  /** Opens and authenticates a connection, or throws an error that says which step failed and how to fix it. */
  static async open(target: SshTarget, settings: SshConnectionSettings, logger: Logger): Promise<SshConnection> {
    const where = describeTarget(target);
    const client = new Client();
    let presented: string | null = null;
    let hostKeyRejected = false;
    const handshake = new Promise<void>((resolve, reject) => {
      client.once('ready', resolve);
      client.once('error', reject);
      client.once('close', () => reject(new SshConnectError('the server closed the connection during the handshake')));
    });
    try {
      client.connect({
        host: target.host,
        port: target.port,
        username: target.username,
        privateKey: target.privateKey,
        ...(target.passphrase !== undefined ? { passphrase: target.passphrase } : {}),
        readyTimeout: settings.connectTimeoutMs,
        keepaliveInterval: settings.keepaliveIntervalMs,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          presented = hostKeyFingerprint(key);
          hostKeyRejected = !target.verifyHostKey(presented);
          return !hostKeyRejected;
        },
      });
    } catch (error) {
      // ssh2 parses the key synchronously: a malformed key or a wrong passphrase lands here.
      client.end();
      throw new SshKeyReadError(`cannot use the private key for ${where}: ${(error as Error).message}`, { cause: error });
    }
    try {
      await handshake;
    } catch (error) {
      client.end();
      throw explainConnectError(error as Error & { level?: string }, where, hostKeyRejected ? presented : null);
    }
    logger.info({ host: where, hostKey: presented }, 'ssh connection open');
    return new SshConnection(client, target, logger);
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  /** Calls `listener` once when the connection is gone (at once if it already is). Returns an unsubscribe. */
  onClose(listener: () => void): () => void {
    if (this.closedFlag) {
      listener();
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Runs `command` in a new session channel (no pty: the command gets its own session and process group). */
  exec(command: string): Promise<ClientChannel> {
    if (this.closedFlag) return Promise.reject(new SshConnectError(`the ssh connection to ${describeTarget(this.target)} is closed`));
    return new Promise((resolve, reject) => {
      try {
        this.client.exec(command, (error, channel) => (error ? reject(error) : resolve(channel)));
      } catch (error) {
        reject(error as Error);
      }
    });
  }

  /** Ends the connection. Remote wrappers then see stdin close and kill their process groups. */
  close(): void {
    this.client.end();
  }

  /** Drops the socket without a goodbye (tests use it to simulate a lost connection). */
  destroy(): void {
    this.client.destroy();
  }
}

function explainConnectError(error: Error & { level?: string }, where: string, rejectedKey: string | null): Error {
  if (rejectedKey !== null) {
    return new SshHostKeyError(
      `${where} presented host key ${rejectedKey}, which is not a trusted key for this host. If the host's key really ` +
        `changed, check it on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and put the new fingerprint in hostKeySha256.`,
      rejectedKey,
    );
  }
  if (error.level === 'client-authentication') {
    return new SshAuthError(
      `${where} refused the configured private key (${error.message}). Add its public key to the user's ~/.ssh/authorized_keys on the host.`,
      { cause: error },
    );
  }
  if (error.level === 'client-timeout') {
    return new SshConnectError(`no SSH handshake with ${where} within the connect timeout`, { cause: error });
  }
  return new SshConnectError(`cannot connect to ${where}: ${error.message}`, { cause: error });
}

/**
 * Open connections, one per target (user, host, port and key), shared by everything that runs there
 * and reopened when one dropped. Concurrent callers share one connection attempt.
 */
export class SshConnectionPool {
  private readonly connections = new Map<string, Promise<SshConnection>>();

  constructor(
    private readonly settings: SshConnectionSettings,
    private readonly logger: Logger,
  ) {}

  /** An open connection to `target`: the existing one, or a new one. */
  async get(target: SshTarget): Promise<SshConnection> {
    const key = connectionKey(target);
    const existing = this.connections.get(key);
    if (existing) {
      // Joining an attempt in flight shares its outcome, failure included.
      const connection = await existing;
      if (!connection.isClosed) return connection;
      if (this.connections.get(key) === existing) this.connections.delete(key);
      return this.get(target);
    }
    const opening = SshConnection.open(target, this.settings, this.logger);
    this.connections.set(key, opening);
    try {
      const connection = await opening;
      connection.onClose(() => {
        if (this.connections.get(key) === opening) this.connections.delete(key);
      });
      return connection;
    } catch (error) {
      if (this.connections.get(key) === opening) this.connections.delete(key);
      throw error;
    }
  }

  /** Closes the connection to `target`, if one is open. */
  async release(target: SshTarget): Promise<void> {
    const key = connectionKey(target);
    const opening = this.connections.get(key);
    this.connections.delete(key);
    const connection = await opening?.catch(() => null);
    connection?.close();
  }

  /**
   * Drops the connection to `target` at once, without waiting for the host to answer (a host found
   * dead: a goodbye would never be acknowledged). Everything running over it sees the loss now.
   */
  async drop(target: SshTarget): Promise<void> {
    const key = connectionKey(target);
    const opening = this.connections.get(key);
    this.connections.delete(key);
    const connection = await opening?.catch(() => null);
    connection?.destroy();
  }

  /** Closes every connection. */
  async closeAll(): Promise<void> {
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(all.map(async (opening) => (await opening.catch(() => null))?.close()));
  }
}

function connectionKey(target: SshTarget): string {
  // The key material is part of the identity (two entries may log in as the same user with
  // different keys); hashed so it never sits in a map key in clear.
  const keyHash = createHash('sha256').update(target.privateKey).digest('hex').slice(0, 16);
  return `${describeTarget(target)}#${keyHash}#${target.scope ?? ''}`;
}
