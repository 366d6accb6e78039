import type {
  ExecutorFleetEntry,
  ExecutorHandle,
  ExecutorManager,
  ExecutorStartContext,
  ExecutorStatus,
  Logger,
  Manifest,
  Metrics,
} from '@horde/core';
import { VastBudget, type BudgetRental } from './budget.js';
import { VastMetrics } from './metrics.js';
import {
  firstUseHostKey,
  readPrivateKey,
  SshHostKeyError,
  SshKeyReadError,
  SshLauncher,
  type HostKeyVerifier,
  type RemoteAgent,
  type SshTarget,
} from '@horde/ssh-launcher';
import type { VastClassConfig, VastConfig } from './config.js';
import {
  VastApiError,
  VastBudgetError,
  VastAuthError,
  VastCapacityError,
  VastClosedError,
  VastInstanceGoneError,
  VastNoOfferError,
  VastRateLimitedError,
  VastReadyTimeoutError,
  VastRentError,
} from './errors.js';
import { describeFilter, offerQuery, offersToTry } from './offer-query.js';
import { VastClient, type VastApi, type VastInstance } from './vast-api.js';

/** Offers tried per start when renting fails (someone else was faster). */
const RENT_ATTEMPTS = 3;

export interface VastExecutorManagerOptions {
  readonly config: VastConfig;
  readonly logger: Logger;
  /** The marketplace client; default: `VastClient` on `config.apiUrl`. */
  readonly api?: VastApi;
  /** First 429 backoff in milliseconds (default 1000; tests use less). */
  readonly retryBaseMs?: number;
  /** The process registry: cost, refusals and job cost are registered on it. */
  readonly metrics?: Metrics;
}

/** One machine rented from the marketplace. */
interface RentedInstance {
  readonly id: number;
  readonly executorClass: string;
  state: 'provisioning' | 'busy' | 'warm' | 'destroying';
  /** Set once it accepted an SSH connection. */
  target: SshTarget | null;
  publicAddress: string | null;
  /** Nobody can know a new instance's host key: trust the first one, then only that one. */
  readonly verifyHostKey: HostKeyVerifier;
  idleTimer: NodeJS.Timeout | null;
  destroying: Promise<void> | null;
  /** The offer's price, everything included (`dph_total`). */
  readonly dollarsPerHour: number;
  /** Its place in the budget, ended once it is destroyed. */
  readonly rental: BudgetRental;
  /** When the marketplace last refused to destroy it (retried after `destroyRetrySeconds`). */
  destroyFailedAt: number | null;
}

/** What we keep per started executor. The handle the runtime holds is just `{ id }`. */
interface VastExecutor {
  readonly instance: RentedInstance;
  readonly agent: RemoteAgent;
  /** Set once the agent is gone and its instance is released (destroyed or kept warm). */
  final: ExecutorStatus | null;
  released: Promise<void>;
}

/**
 * Rents machines from a vast.ai-style marketplace on demand and runs one executor agent on each,
 * over SSH (`@horde/ssh-launcher`). The manifest is `maxInstances` per
 * class: nothing is rented until a validator's job needs an executor, so a class's spin-up time
 * must cover renting, booting the image and connecting.
 *
 * `start`: the cheapest offer matching the class's filters is rented (`horde-<token prefix>` label),
 * polled until it runs and accepts SSH (or destroyed after `readyTimeoutSeconds`), and the agent
 * started there. When the agent ends (exit or `kill`), the instance is destroyed, or kept for
 * `idleSeconds` for the next start of its class. `close` destroys every instance it rented.
 */
export class VastExecutorManager implements ExecutorManager {
  private readonly api: VastApi;
  private readonly launcher: SshLauncher;
  private readonly config: VastConfig;
  private readonly logger: Logger;
  private readonly instances = new Map<number, RentedInstance>();
  private readonly executors = new Map<string, VastExecutor>();
  /** Executors started or starting per class, until their instance is released. */
  private readonly inUse = new Map<string, number>();
  private readonly pendingStarts = new Set<Promise<unknown>>();
  private closing = false;
  private nextId = 1;
  private readonly budget: VastBudget;
  private readonly metrics: VastMetrics | null;
  private readonly watchdog: NodeJS.Timeout;

  constructor(options: VastExecutorManagerOptions) {
    this.config = options.config;
    this.logger = options.logger;
    this.api =
      options.api ??
      new VastClient({
        apiUrl: options.config.apiUrl,
        apiKey: options.config.apiKey,
        requestTimeoutMs: options.config.requestTimeoutSeconds * 1000,
        maxRetries: options.config.maxRetries,
        retryBaseMs: options.retryBaseMs ?? 1_000,
        logger: options.logger,
      });
    this.launcher = new SshLauncher({
      connectTimeoutSeconds: options.config.ssh.connectTimeoutSeconds,
      keepaliveSeconds: options.config.ssh.keepaliveSeconds,
      killGraceMs: options.config.killGraceMs,
      logger: options.logger,
    });
    const { maxDollarsPerHour, maxDollarsPerDay } = options.config.budget;
    this.budget = new VastBudget({ maxDollarsPerHour, maxDollarsPerDay });
    this.metrics = options.metrics
      ? new VastMetrics(
          options.metrics,
          { dollarsPerHourByClass: () => this.dollarsPerHourByClass(), spentLastDay: () => this.budget.spentLastDay() },
          { maxDollarsPerHour, maxDollarsPerDay },
        )
      : null;
    this.watchdog = setInterval(() => void this.checkBudgetAndDestroys(), options.config.budget.checkIntervalSeconds * 1000);
    this.watchdog.unref();
  }

  /** What every rented instance costs now, per class (metrics, dashboard). */
  private dollarsPerHourByClass(): Record<string, number> {
    const byClass: Record<string, number> = {};
    for (const instance of this.instances.values())
      byClass[instance.executorClass] = (byClass[instance.executorClass] ?? 0) + instance.dollarsPerHour;
    return byClass;
  }

  /** The rented instances, for the miner's dashboard: state and price. */
  fleet(): readonly ExecutorFleetEntry[] {
    return [...this.instances.values()].map((instance) => ({
      id: `vast-${instance.id}`,
      executorClass: instance.executorClass,
      state: instance.destroyFailedAt !== null ? 'destroy_failed' : instance.state,
      executors: 1,
      dollarsPerHour: instance.dollarsPerHour,
      ...(instance.destroyFailedAt !== null ? { detail: 'the marketplace refused to destroy it; retrying' } : {}),
    }));
  }

  /**
   * The watchdog: destroys again what the marketplace refused to destroy, and when keeping what runs
   * until the next check would cross the day cap, destroys idle instances, then stops running ones.
   */
  private async checkBudgetAndDestroys(): Promise<void> {
    const now = Date.now();
    for (const instance of this.instances.values()) {
      if (instance.destroyFailedAt !== null && now - instance.destroyFailedAt >= this.config.destroyRetrySeconds * 1000)
        void this.destroy(instance);
    }
    const ahead = this.config.budget.checkIntervalSeconds * 1000;
    if (!this.budget.overDayBudget(ahead)) return;
    const warm = [...this.instances.values()].filter((i) => i.state === 'warm');
    for (const instance of warm) {
      this.logger.warn(
        { instanceId: instance.id, spentLastDay: this.budget.spentLastDay() },
        'vast day budget nearly spent: destroying an idle instance',
      );
      await this.destroy(instance);
    }
    if (!this.budget.overDayBudget(ahead)) return;
    for (const [id, executor] of this.executors) {
      if (executor.final) continue;
      this.logger.error(
        {
          instanceId: executor.instance.id,
          spentLastDay: this.budget.spentLastDay(),
          maxDollarsPerDay: this.config.budget.maxDollarsPerDay,
        },
        'vast day budget reached: stopping a running executor and destroying its instance',
      );
      await this.kill({ id });
      if (!this.budget.overDayBudget(ahead)) return;
    }
  }

  async manifest(): Promise<Manifest> {
    // What we may rent at once, not what runs now: the marketplace is asked only on a start.
    return Object.fromEntries(Object.entries(this.config.classes).map(([executorClass, c]) => [executorClass, c.maxInstances]));
  }

  async start(token: string, executorClass: string, ctx: ExecutorStartContext): Promise<ExecutorHandle> {
    if (this.closing) throw new VastClosedError('the vast executor manager is shutting down');
    const klass = this.config.classes[executorClass];
    if (!klass || klass.maxInstances === 0) {
      throw new VastCapacityError(`no vast offers are configured for executor class ${executorClass}`);
    }
    const used = this.inUse.get(executorClass) ?? 0;
    if (used >= klass.maxInstances) {
      throw new VastCapacityError(`all ${klass.maxInstances} vast instance(s) of executor class ${executorClass} are in use`);
    }
    this.inUse.set(executorClass, used + 1);
    const starting = this.startOn(token, executorClass, klass, ctx).catch((error: unknown) => {
      this.release(executorClass);
      throw error;
    });
    this.pendingStarts.add(starting);
    try {
      return await starting;
    } finally {
      this.pendingStarts.delete(starting);
    }
  }

  private async startOn(token: string, executorClass: string, klass: VastClassConfig, ctx: ExecutorStartContext): Promise<ExecutorHandle> {
    const logger = ctx.logger.child({ executorClass });
    const warm = this.takeWarm(executorClass);
    if (warm) {
      try {
        return await this.launchOn(warm, token, ctx);
      } catch (error) {
        logger.warn({ err: error, instanceId: warm.id }, 'the kept vast instance cannot run the agent; destroying it and renting another');
        await this.destroy(warm);
      }
    }
    const privateKey = this.config.ssh.privateKey ?? (await readPrivateKey(this.config.ssh.privateKeyPath!));
    const instance = await this.rent(executorClass, klass, token, logger);
    try {
      await this.waitUntilReady(instance, privateKey, logger);
      return await this.launchOn(instance, token, ctx);
    } catch (error) {
      await this.destroy(instance);
      throw error;
    }
  }

  async poll(handle: ExecutorHandle): Promise<ExecutorStatus> {
    const executor = this.executors.get(handle.id);
    if (!executor) return { state: 'exited', exitCode: null, reason: 'unknown executor' };
    if (!executor.final) return { state: 'running' };
    this.executors.delete(handle.id);
    return executor.final;
  }

  async kill(handle: ExecutorHandle): Promise<void> {
    const executor = this.executors.get(handle.id);
    if (!executor) return;
    await executor.agent.kill();
    await executor.released;
    this.executors.delete(handle.id);
  }

  async publicAddress(handle: ExecutorHandle): Promise<string | null> {
    return this.executors.get(handle.id)?.instance.publicAddress ?? null;
  }

  async close(): Promise<void> {
    this.closing = true;
    // Starts in flight see `closing` and destroy what they rented.
    await Promise.allSettled([...this.pendingStarts]);
    await Promise.all([...this.executors.keys()].map((id) => this.kill({ id })));
    await Promise.all([...this.instances.values()].map((instance) => this.destroy(instance)));
    await this.launcher.close();
    clearInterval(this.watchdog);
    if (this.instances.size > 0) {
      this.logger.error(
        { instanceIds: [...this.instances.keys()] },
        'could not destroy every rented vast instance: destroy them by hand (vastai destroy instance ID) or they keep costing money',
      );
    }
  }

  /** Searches the cheapest matching offers and rents the first that can be rented. */
  private async rent(executorClass: string, klass: VastClassConfig, token: string, logger: Logger): Promise<RentedInstance> {
    const disk = klass.disk ?? this.config.disk;
    const offers = offersToTry(await this.api.searchOffers(offerQuery(klass, disk)), klass);
    if (offers.length === 0) {
      throw new VastNoOfferError(`no vast offer matches executor class ${executorClass} (${describeFilter(klass)})`);
    }
    let lastError: unknown = null;
    for (const offer of offers.slice(0, RENT_ATTEMPTS)) {
      // Reserved before the request, so concurrent starts cannot rent past a cap together.
      const decision = this.budget.reserve(offer.dph_total);
      if (!decision.ok) {
        this.metrics?.refusals.inc({ executor_class: executorClass, limit: decision.limit });
        logger.warn(
          { offerId: offer.id, dphTotal: offer.dph_total, limit: decision.limit, dollarsPerHour: this.budget.dollarsPerHour() },
          'vast rent refused by the budget',
        );
        // Offers are cheapest first: a dearer one would break the cap too.
        throw new VastBudgetError(decision.limit, `not renting a vast instance for executor class ${executorClass}: ${decision.reason}`);
      }
      const rental = decision.rental;
      let instanceId: number;
      try {
        instanceId = await this.api.createInstance(offer.id, {
          client_id: 'me',
          image: klass.image ?? this.config.image,
          disk,
          label: `horde-${token.slice(0, 8)}`,
          runtype: this.config.direct ? 'ssh_direc ssh_proxy' : 'ssh',
          onstart: klass.onstart ?? this.config.onstart ?? null,
          env: {},
          price: null,
          cancel_unavail: true,
        });
      } catch (error) {
        // Another renter was faster, or the machine refused: try the next offer. A bad key or a
        // rate limit would fail the same way for every offer.
        rental.cancel();
        if (error instanceof VastAuthError || error instanceof VastRateLimitedError) throw error;
        lastError = error;
        logger.warn({ err: error, offerId: offer.id }, 'could not rent the vast offer; trying the next');
        continue;
      }
      const instance: RentedInstance = {
        id: instanceId,
        executorClass,
        state: 'provisioning',
        target: null,
        publicAddress: null,
        verifyHostKey: firstUseHostKey(),
        idleTimer: null,
        destroying: null,
        dollarsPerHour: offer.dph_total,
        rental,
        destroyFailedAt: null,
      };
      this.instances.set(instanceId, instance);
      logger.info(
        { instanceId, offerId: offer.id, dphTotal: offer.dph_total, gpu: offer.gpu_name, numGpus: offer.num_gpus },
        'vast instance rented',
      );
      if (this.closing) {
        await this.destroy(instance);
        throw new VastClosedError('the vast executor manager is shutting down');
      }
      return instance;
    }
    throw new VastRentError(
      `could not rent any of the ${Math.min(offers.length, RENT_ATTEMPTS)} cheapest vast offers for executor class ${executorClass}: ${(lastError as Error).message}`,
      { cause: lastError },
    );
  }

  /** Polls the instance until it runs and accepts SSH, or throws after `readyTimeoutSeconds`. */
  private async waitUntilReady(instance: RentedInstance, privateKey: string | Buffer, logger: Logger): Promise<void> {
    const deadline = Date.now() + this.config.readyTimeoutSeconds * 1000;
    let last = 'no status yet';
    for (;;) {
      if (this.closing) throw new VastClosedError('the vast executor manager is shutting down');
      const info = await this.api.showInstance(instance.id);
      if (!info) throw new VastInstanceGoneError(`vast instance ${instance.id} disappeared from the account while starting`);
      const address = this.sshAddress(info);
      if (info.actual_status === 'running' && address) {
        const target: SshTarget = {
          ...address,
          username: this.config.ssh.username,
          privateKey,
          ...(this.config.ssh.passphrase !== undefined ? { passphrase: this.config.ssh.passphrase } : {}),
          verifyHostKey: instance.verifyHostKey,
          scope: `vast-instance-${instance.id}`,
        };
        try {
          await this.launcher.connect(target);
          instance.target = target;
          instance.publicAddress = info.public_ipaddr ?? address.host;
          logger.info({ instanceId: instance.id, ssh: `${address.host}:${address.port}` }, 'vast instance ready');
          return;
        } catch (error) {
          // sshd may still be starting, or the account key not yet installed: retry until the deadline.
          if (error instanceof SshHostKeyError || error instanceof SshKeyReadError) throw error;
          last = `ssh: ${(error as Error).message}`;
        }
      } else {
        last = `status ${info.actual_status ?? 'unknown'}${info.status_msg ? ` (${info.status_msg.trim()})` : ''}`;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new VastReadyTimeoutError(
          `vast instance ${instance.id} was not reachable over ssh within ${this.config.readyTimeoutSeconds} s (last: ${last}); it is being destroyed`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.config.pollIntervalSeconds * 1000, left)));
    }
  }

  /** Where to SSH: vast's proxy (`ssh_host:ssh_port`), or the public IP and the port mapped to 22. */
  private sshAddress(info: VastInstance): { host: string; port: number } | null {
    if (this.config.direct) {
      const port = info.ports?.['22/tcp']?.[0]?.HostPort;
      return info.public_ipaddr && port ? { host: info.public_ipaddr, port } : null;
    }
    return info.ssh_host && info.ssh_port ? { host: info.ssh_host, port: info.ssh_port } : null;
  }

  private async launchOn(instance: RentedInstance, token: string, ctx: ExecutorStartContext): Promise<ExecutorHandle> {
    instance.state = 'busy';
    const id = `vast-${instance.id}-${this.nextId++}`;
    const logger = ctx.logger.child({ executor: id, instanceId: instance.id });
    const agent = await this.launcher.launch(instance.target!, ctx.launch, {
      remoteCommand: this.config.remoteCommand,
      env: this.config.env,
      logger,
    });
    const executor: VastExecutor = { instance, agent, final: null, released: Promise.resolve() };
    // The executor counts as exited only once its instance is released, so the runtime never
    // starts a new one of the class while the old machine is still being torn down.
    const launchedAt = Date.now();
    executor.released = agent.done.then(async (status) => {
      this.metrics?.jobCost.observe(
        { executor_class: instance.executorClass },
        (instance.dollarsPerHour * (Date.now() - launchedAt)) / 3_600_000,
      );
      await this.releaseInstance(instance, status);
      this.release(instance.executorClass);
      executor.final = status;
    });
    this.executors.set(id, executor);
    logger.info({ token, pgid: agent.pgid }, 'executor agent started on a vast instance');
    return { id };
  }

  /** After its executor: keep the instance warm for `idleSeconds`, or destroy it. */
  private async releaseInstance(instance: RentedInstance, status: ExecutorStatus): Promise<void> {
    const healthy = status.state === 'exited' && status.reason !== 'ssh connection lost';
    if (this.closing || this.config.idleSeconds === 0 || !healthy) return this.destroy(instance);
    instance.state = 'warm';
    instance.idleTimer = setTimeout(() => void this.destroy(instance), this.config.idleSeconds * 1000);
    instance.idleTimer.unref();
    this.logger.info({ instanceId: instance.id, idleSeconds: this.config.idleSeconds }, 'vast instance kept for the next executor');
  }

  private takeWarm(executorClass: string): RentedInstance | null {
    for (const instance of this.instances.values()) {
      if (instance.executorClass === executorClass && instance.state === 'warm') {
        if (instance.idleTimer) clearTimeout(instance.idleTimer);
        instance.idleTimer = null;
        instance.state = 'busy';
        return instance;
      }
    }
    return null;
  }

  private release(executorClass: string): void {
    this.inUse.set(executorClass, Math.max(0, (this.inUse.get(executorClass) ?? 0) - 1));
  }

  /**
   * Destroys the instance (once, however often it is called). A `success: false` answer means the
   * marketplace no longer has it, which is what we want; a failure to get any answer leaves it
   * listed for the next attempt (`close`) and is logged.
   */
  private destroy(instance: RentedInstance): Promise<void> {
    instance.destroying ??= (async () => {
      if (instance.idleTimer) clearTimeout(instance.idleTimer);
      instance.idleTimer = null;
      instance.state = 'destroying';
      if (instance.target) await this.launcher.release(instance.target);
      try {
        await this.api.destroyInstance(instance.id);
        this.logger.info({ instanceId: instance.id }, 'vast instance destroyed');
      } catch (error) {
        const gone =
          error instanceof VastApiError &&
          !(error instanceof VastAuthError) &&
          error.status !== null &&
          (error.status < 400 || error.status === 404);
        if (!gone) {
          this.logger.error(
            { err: error, instanceId: instance.id, retryInSeconds: this.config.destroyRetrySeconds },
            'could not destroy the vast instance; it costs money until a retry succeeds',
          );
          instance.destroyFailedAt = Date.now();
          instance.destroying = null;
          return;
        }
        this.logger.warn({ err: error, instanceId: instance.id }, 'the marketplace no longer lists the vast instance');
      }
      instance.rental.end();
      this.instances.delete(instance.id);
    })();
    return instance.destroying;
  }
}
