import { readFile } from 'node:fs/promises';
import type {
  ExecutorHandle,
  ExecutorManager,
  ExecutorStartContext,
  ExecutorStatus,
  Logger,
  Manifest,
} from '@horde/core';
import type { SshHostConfig } from './config.js';
import { NoFreeHostError, SshKeyReadError } from './errors.js';
import { anyHostKey, pinnedHostKeys } from './host-key.js';
import type { RemoteAgent } from './remote-agent.js';
import { describeTarget, type SshTarget } from './ssh-connection.js';
import { SshLauncher } from './ssh-launcher.js';

export interface SshExecutorManagerOptions {
  readonly hosts: readonly SshHostConfig[];
  /** Seconds for TCP connect + handshake + authentication (ComputeHorde: 15). */
  readonly connectTimeoutSeconds: number;
  /** Seconds between SSH keepalives (ComputeHorde: 30). */
  readonly keepaliveSeconds: number;
  /** Milliseconds between SIGTERM and SIGKILL when killing an executor. */
  readonly killGraceMs: number;
  readonly logger: Logger;
}

/** What we keep per started executor. The handle the runtime holds is just `{ id }`. */
interface SshExecutor {
  readonly agent: RemoteAgent;
  readonly host: SshHostConfig;
}

/**
 * Runs executor agents on a fleet of SSH hosts, one agent per host at a time (ComputeHorde's
 * `DockerExecutorManager` in ssh mode). The manifest counts the hosts per class; `start` takes the
 * free host of the class that has waited longest (round-robin), starts the agent there over SSH in
 * its own process group, and the host is free again once that group is gone.
 */
export class SshExecutorManager implements ExecutorManager {
  private readonly launcher: SshLauncher;
  private readonly executors = new Map<string, SshExecutor>();
  /** Indexes into `hosts` of the free hosts, longest-free first. */
  private readonly free: number[];
  private readonly manifestCounts: Manifest = {};
  private nextId = 1;

  constructor(private readonly options: SshExecutorManagerOptions) {
    this.launcher = new SshLauncher(options);
    this.free = options.hosts.map((_, index) => index);
    for (const host of options.hosts) {
      this.manifestCounts[host.executorClass] = (this.manifestCounts[host.executorClass] ?? 0) + 1;
    }
  }

  async manifest(): Promise<Manifest> {
    // Static: the configured hosts. One executor per host, as in ComputeHorde.
    return { ...this.manifestCounts };
  }

  async start(token: string, executorClass: string, ctx: ExecutorStartContext): Promise<ExecutorHandle> {
    const index = this.takeFreeHost(executorClass);
    const host = this.options.hosts[index]!;
    const id = `ssh-${host.host}:${host.port}-${this.nextId++}`;
    const logger = ctx.logger.child({ executor: id });
    let agent: RemoteAgent;
    try {
      agent = await this.launcher.launch(await this.target(host), ctx.launch, {
        remoteCommand: host.remoteCommand,
        env: host.env,
        logger,
        // Free the host the moment its process group is gone, before `poll` can report the exit.
        onGone: () => this.free.push(index),
      });
    } catch (error) {
      this.free.push(index);
      throw error;
    }
    this.executors.set(id, { agent, host });
    logger.info({ token, host: describeTarget(host), pgid: agent.pgid }, 'executor agent started over ssh');
    return { id };
  }

  async poll(handle: ExecutorHandle): Promise<ExecutorStatus> {
    const executor = this.executors.get(handle.id);
    if (!executor) return { state: 'exited', exitCode: null, reason: 'unknown executor' };
    const status = executor.agent.status();
    // Keep nothing for an executor that is gone: `kill` after this is a no-op anyway.
    if (status.state === 'exited') this.executors.delete(handle.id);
    return status;
  }

  async kill(handle: ExecutorHandle): Promise<void> {
    const executor = this.executors.get(handle.id);
    if (!executor) return;
    await executor.agent.kill();
    this.executors.delete(handle.id);
  }

  async publicAddress(handle: ExecutorHandle): Promise<string | null> {
    return this.executors.get(handle.id)?.host.host ?? null;
  }

  async close(): Promise<void> {
    await Promise.all([...this.executors.keys()].map((id) => this.kill({ id })));
    await this.launcher.close();
  }

  private takeFreeHost(executorClass: string): number {
    if (!this.manifestCounts[executorClass]) {
      throw new NoFreeHostError(`no ssh host is configured for executor class ${executorClass}`);
    }
    const position = this.free.findIndex((index) => this.options.hosts[index]!.executorClass === executorClass);
    if (position < 0) throw new NoFreeHostError(`every ssh host of executor class ${executorClass} is busy`);
    return this.free.splice(position, 1)[0]!;
  }

  private async target(host: SshHostConfig): Promise<SshTarget> {
    return {
      host: host.host,
      port: host.port,
      username: host.username,
      privateKey: host.privateKey ?? (await readPrivateKey(host.privateKeyPath!)),
      ...(host.passphrase !== undefined ? { passphrase: host.passphrase } : {}),
      verifyHostKey: host.insecureAcceptAnyHostKey
        ? anyHostKey()
        : pinnedHostKeys(typeof host.hostKeySha256 === 'string' ? [host.hostKeySha256] : (host.hostKeySha256 ?? [])),
    };
  }
}

/** Reads a private key file, or throws an error that names the file. */
export async function readPrivateKey(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new SshKeyReadError(`cannot read the ssh private key ${path}: ${(error as Error).message}`, { cause: error });
  }
}
