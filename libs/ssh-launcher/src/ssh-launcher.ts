import type { ExecutorLaunch, ExecutorStatus, Logger } from '@horde/core';
import { RemoteAgent } from './remote-agent.js';
import { remoteArgv } from './remote-command.js';
import { SshConnectionPool, type SshConnection, type SshTarget } from './ssh-connection.js';

export interface SshLauncherSettings {
  /** Seconds for TCP connect + handshake + authentication (ComputeHorde: 15). */
  readonly connectTimeoutSeconds: number;
  /** Seconds between SSH keepalives (ComputeHorde: 30). */
  readonly keepaliveSeconds: number;
  /** Milliseconds between SIGTERM and SIGKILL when an agent is killed. */
  readonly killGraceMs: number;
  readonly logger: Logger;
}

export interface RemoteLaunchOptions {
  /** Argv prefix that runs horde on the host; replaces the runtime's local command (see `remoteArgv`). */
  readonly remoteCommand: readonly string[];
  /** Extra environment for the agent; the runtime's `launch.env` wins on a clash. */
  readonly env?: Readonly<Record<string, string>>;
  /** Logger for this executor (its output and lifecycle). */
  readonly logger: Logger;
  /** See `RemoteAgentOptions.onGone`. */
  readonly onGone?: (status: ExecutorStatus) => void;
}

/**
 * Runs executor agents on hosts reachable over SSH: one connection per host (opened on demand,
 * reused, reopened after a drop), one exec channel per agent. This is the part every SSH-based
 * executor manager shares (the SSH fleet, rented machines).
 */
export class SshLauncher {
  private readonly pool: SshConnectionPool;

  constructor(private readonly settings: SshLauncherSettings) {
    this.pool = new SshConnectionPool(
      { connectTimeoutMs: settings.connectTimeoutSeconds * 1000, keepaliveIntervalMs: settings.keepaliveSeconds * 1000 },
      settings.logger,
    );
  }

  /** An open, authenticated connection to `target` (throws `SshConnectError`, `SshAuthError`, `SshHostKeyError`, `SshKeyReadError`). */
  connect(target: SshTarget): Promise<SshConnection> {
    return this.pool.get(target);
  }

  /** Starts the runtime's executor launch on `target`; resolves once the agent's process group exists. */
  async launch(target: SshTarget, launch: ExecutorLaunch, options: RemoteLaunchOptions): Promise<RemoteAgent> {
    const connection = await this.pool.get(target);
    return RemoteAgent.launch(
      connection,
      remoteArgv(launch.argv, options.remoteCommand),
      { ...options.env, ...launch.env },
      {
        killGraceMs: this.settings.killGraceMs,
        launchTimeoutMs: this.settings.connectTimeoutSeconds * 1000,
        logger: options.logger,
        ...(options.onGone ? { onGone: options.onGone } : {}),
      },
    );
  }

  /** Closes the connection to `target` (agents still running there are killed by their watchdogs). */
  release(target: SshTarget): Promise<void> {
    return this.pool.release(target);
  }

  /** Drops the connection to `target` without a goodbye (a dead host); its agents are reported lost at once. */
  drop(target: SshTarget): Promise<void> {
    return this.pool.drop(target);
  }

  /** Closes every connection. */
  close(): Promise<void> {
    return this.pool.closeAll();
  }
}
