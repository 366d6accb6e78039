import type {
  ExecutorFleetEntry,
  ExecutorHandle,
  ExecutorManager,
  ExecutorStartContext,
  ExecutorStatus,
  Logger,
  Manifest,
} from '@horde/core';
import type { SshHostConfig } from './config.js';
import { NoFreeHostError } from './errors.js';
import { anyHostKey, describeTarget, SshConnectError, pinnedHostKeys, readPrivateKey, SshLauncher, type RemoteAgent, type SshTarget } from '@horde/ssh-launcher';

export interface SshExecutorManagerOptions {
  readonly hosts: readonly SshHostConfig[];
  /** Seconds for TCP connect + handshake + authentication (ComputeHorde: 15). */
  readonly connectTimeoutSeconds: number;
  /** Seconds between SSH keepalives (ComputeHorde: 30). */
  readonly keepaliveSeconds: number;
  /** Milliseconds between SIGTERM and SIGKILL when killing an executor. */
  readonly killGraceMs: number;
  readonly logger: Logger;
  /** Seconds between health probes of each host; 0 or unset: no probes (every host counts as healthy). */
  readonly healthCheckSeconds?: number;
  /** Seconds one probe may take (default 10). */
  readonly healthCheckTimeoutSeconds?: number;
  /** Failed probes in a row before a host counts as dead (default 2). */
  readonly unhealthyAfterFailures?: number;
}

/** What the probes know about one host. */
export interface HostHealth {
  state: 'healthy' | 'dead';
  /** Failed probes in a row. */
  failures: number;
  lastError: string | null;
  checkedAt: number | null;
}

class ProbeTimeoutError extends Error {}

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
  /** Per host (same index as `hosts`). */
  readonly health: HostHealth[];
  private readonly probeTimer: NodeJS.Timeout | null;
  private probing: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly options: SshExecutorManagerOptions) {
    this.launcher = new SshLauncher(options);
    this.free = options.hosts.map((_, index) => index);
    for (const host of options.hosts) {
      this.manifestCounts[host.executorClass] = (this.manifestCounts[host.executorClass] ?? 0) + 1;
    }
    this.health = options.hosts.map(() => ({ state: 'healthy', failures: 0, lastError: null, checkedAt: null }));
    const every = options.healthCheckSeconds ?? 0;
    this.probeTimer = every > 0 ? setInterval(() => void this.probeAll(), every * 1000) : null;
    this.probeTimer?.unref();
  }

  async manifest(): Promise<Manifest> {
    // The configured hosts, one executor each (as in ComputeHorde), less those found dead: a
    // validator is never offered an executor on a host that does not answer.
    const counts: Manifest = Object.fromEntries(Object.keys(this.manifestCounts).map((executorClass) => [executorClass, 0]));
    this.options.hosts.forEach((host, index) => {
      if (this.health[index]!.state === 'healthy') counts[host.executorClass] = (counts[host.executorClass] ?? 0) + 1;
    });
    return counts;
  }

  /** Every host with its health and whether it runs an executor (the miner's dashboard). */
  fleet(): readonly ExecutorFleetEntry[] {
    return this.options.hosts.map((host, index) => {
      const health = this.health[index]!;
      const state = health.state === 'dead' ? 'dead' : this.free.includes(index) ? 'healthy' : 'busy';
      return {
        id: describeTarget(host),
        executorClass: host.executorClass,
        state,
        executors: 1,
        ...(health.lastError && health.state === 'dead' ? { detail: health.lastError } : {}),
      };
    });
  }

  /** Probes every host once (the timer calls it; tests may too). Overlapping calls share one round. */
  probeAll(): Promise<void> {
    this.probing ??= Promise.all(this.options.hosts.map((_, index) => this.probe(index))).then(
      () => {
        this.probing = null;
      },
      () => {
        this.probing = null;
      },
    );
    return this.probing;
  }

  private async probe(index: number): Promise<void> {
    if (this.closed) return;
    const host = this.options.hosts[index]!;
    const health = this.health[index]!;
    const timeoutMs = (this.options.healthCheckTimeoutSeconds ?? 10) * 1000;
    const where = describeTarget(host);
    let timer: NodeJS.Timeout | null = null;
    try {
      const target = await this.target(host);
      await Promise.race([
        this.runProbe(target),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new ProbeTimeoutError(`no answer to the health probe within ${timeoutMs / 1000} s`)), timeoutMs);
        }),
      ]);
      health.checkedAt = Date.now();
      if (health.state === 'dead') this.options.logger.info({ host: where, downFor: health.failures }, 'ssh host answers again: back in the manifest');
      health.state = 'healthy';
      health.failures = 0;
      health.lastError = null;
    } catch (error) {
      if (this.closed) return;
      health.checkedAt = Date.now();
      health.failures += 1;
      health.lastError = (error as Error).message;
      const threshold = this.options.unhealthyAfterFailures ?? 2;
      if (health.state === 'healthy' && health.failures >= threshold) {
        health.state = 'dead';
        this.options.logger.warn({ host: where, failures: health.failures, err: error }, 'ssh host is not answering: out of the manifest, its executor reported lost');
        // Drop the connection now: an executor still running there is reported exited (lost) at once,
        // and the miner fails its job as a horde failure instead of waiting for the job's deadline.
        await this.launcher.drop(await this.target(host)).catch(() => undefined);
      } else {
        this.options.logger.debug({ host: where, failures: health.failures, err: error }, 'ssh health probe failed');
      }
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /** `true` over the host's connection, answered with exit code 0. */
  private async runProbe(target: SshTarget): Promise<void> {
    const connection = await this.launcher.connect(target);
    const channel = await connection.exec('true');
    await new Promise<void>((resolve, reject) => {
      channel.on('exit', (code: number | null) => (code === 0 ? resolve() : reject(new SshConnectError(`the health probe exited with ${code}`))));
      channel.on('close', () => resolve());
      channel.resume();
      channel.stderr.resume();
    });
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
    this.closed = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    await Promise.all([...this.executors.keys()].map((id) => this.kill({ id })));
    await this.launcher.close();
  }

  private takeFreeHost(executorClass: string): number {
    if (!this.manifestCounts[executorClass]) {
      throw new NoFreeHostError(`no ssh host is configured for executor class ${executorClass}`);
    }
    const position = this.free.findIndex((index) => this.options.hosts[index]!.executorClass === executorClass && this.health[index]!.state === 'healthy');
    if (position < 0) throw new NoFreeHostError(`every ssh host of executor class ${executorClass} is busy or not answering`);
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
