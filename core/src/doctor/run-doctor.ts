import { tmpdir } from 'node:os';
import Dockerode from 'dockerode';
import { EXECUTOR_MANAGER, HARDWARE_CLASS, type Chain, type HardwareClass, type Logger, type Store } from '../contracts/index.js';
import { loadConfig, type HordeConfig } from '../config/index.js';
import { storeOptions } from '../config/store-options.js';
import { openChain } from '../chain/open-chain.js';
import { DockerEngineCheck } from '../executor/startup-checks/docker-engine.js';
import { NvidiaToolkitCheck } from '../executor/startup-checks/nvidia-toolkit.js';
import type { CheckContext } from '../executor/startup-checks/types.js';
import { loadHotkey, type Hotkey } from '../keys/index.js';
import { createMetricsRegistry } from '../metrics/index.js';
import { loadPlugins } from '../plugin/index.js';
import { SystemClock } from '../time/clock.js';
import { createRuntimeContainer } from '../container/container.js';
import { openStore } from '../store/index.js';
import { clockSkewCheck, diskCheck, gpuClasses, reachabilityCheck, registrationCheck, type DoctorResult } from './checks.js';
import { definedFields } from '../object/defined-fields.js';

export interface DoctorOptions {
  readonly configPath?: string;
  readonly logger: Logger;
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A context for running an executor startup check outside a job. */
function checkContext(logger: Logger): CheckContext {
  const signal = AbortSignal.timeout(15_000);
  return { jobUuid: 'horde-doctor', executorClass: '-', image: null, timeLeftMs: () => 15_000, signal, workDir: tmpdir(), logger };
}

/**
 * `horde doctor`: what an operator checks by hand before (and while) running a miner, in order:
 * the config and plugins load, the hotkeys load, the executor manager declares executors, dockerd
 * (and, for GPU classes, the NVIDIA toolkit and runtime) works, there is disk space for images,
 * the announced address answers from a second socket (and whether only loopback does), the hotkeys
 * are registered with their axon, and the clock agrees with the chain's. Never throws: each
 * problem is a result with its fix.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorResult[]> {
  const results: DoctorResult[] = [];
  const { logger } = options;
  let config: HordeConfig;
  try {
    config = await loadConfig(options.configPath ? { configPath: options.configPath } : {});
    results.push({ check: 'config', status: 'ok', found: `loaded ${config.configFile ?? '(no file: defaults and HORDE_* variables)'}` });
  } catch (error) {
    results.push({
      check: 'config',
      status: 'fail',
      found: describe(error),
      fix: 'fix the config file (horde config check prints every problem)',
    });
    return results;
  }

  let hotkeys: Hotkey[] = [];
  try {
    const sources = config.miner.hotkeys.length > 0 ? config.miner.hotkeys : [config.hotkey];
    hotkeys = await Promise.all(sources.map((source) => loadHotkey(source)));
    results.push({ check: 'hotkey', status: 'ok', found: hotkeys.map((h) => h.ss58).join(', ') });
  } catch (error) {
    results.push({
      check: 'hotkey',
      status: 'fail',
      found: describe(error),
      fix: 'point hotkey (or miner.hotkeys) at the wallet hotkey file, e.g. { wallet: miner, hotkey: default }',
    });
  }

  const opened: Array<Store | Chain> = [];
  try {
    let store: Store | null = null;
    try {
      store = await openStore(storeOptions(config));
      opened.push(store);
    } catch (error) {
      results.push({
        check: 'store',
        status: 'fail',
        found: describe(error),
        fix: 'check store (the SQLite file under dataDir, or store.url for PostgreSQL)',
      });
    }
    let chain: Chain | null = null;
    if (store && config.miner.localMode === null) {
      try {
        chain = await openChain(config.chain, hotkeys[0] ?? null, store, { logger });
        opened.push(chain);
      } catch (error) {
        results.push({
          check: 'chain',
          status: 'fail',
          found: `cannot open the ${config.chain.network} chain: ${describe(error)}`,
          fix: 'check chain.network (finney, test, or a ws:// URL of a node you can reach)',
        });
      }
    }

    let manifest: Record<string, number> = {};
    let classes: readonly HardwareClass[] = [];
    try {
      const root = createRuntimeContainer({
        config,
        logger,
        metrics: createMetricsRegistry({ defaultMetrics: false }),
        clock: new SystemClock(),
        ...definedFields({ store: store ?? undefined, chain: chain ?? undefined }),
      });
      const plugins = await loadPlugins(config, root);
      classes = plugins.all(HARDWARE_CLASS);
      results.push({
        check: 'plugins',
        status: 'ok',
        found: `${plugins.plugins.length} loaded: ${plugins.plugins.map((p) => p.name).join(', ') || 'none'}`,
      });
      const manager = plugins.single(EXECUTOR_MANAGER);
      if (!manager) {
        results.push({
          check: 'executors',
          status: 'warn',
          found: 'no plugin provides an executor manager: the miner falls back to @horde/executor-manager-local',
          fix: 'add your executor manager to plugins (e.g. @horde/executor-manager-ssh)',
        });
      } else {
        manifest = await manager.manifest();
        const total = Object.values(manifest).reduce((sum, n) => sum + n, 0);
        const listed = Object.entries(manifest)
          .map(([c, n]) => `${c} ×${n}`)
          .join(', ');
        results.push(
          total > 0
            ? { check: 'executors', status: 'ok', found: `${manager.constructor.name} declares ${listed}` }
            : {
                check: 'executors',
                status: 'fail',
                found: `${manager.constructor.name} declares no executor${listed ? ` (${listed})` : ''}`,
                fix: "configure the executor manager's hosts or classes",
              },
        );
        await manager.close?.();
      }
    } catch (error) {
      results.push({
        check: 'plugins',
        status: 'fail',
        found: describe(error),
        fix: 'install the plugin packages the config names (npm install …) or fix their config sections',
      });
    }

    let dockerRoot: string | null = null;
    if (config.executor.runner === 'docker') {
      const docker = new Dockerode();
      try {
        const facts = await new DockerEngineCheck(docker).run(checkContext(logger));
        results.push({
          check: 'docker',
          status: 'ok',
          found: `engine ${facts['serverVersion'] ?? '?'}${facts['seccompProfile'] ? `, seccomp ${facts['seccompProfile']}` : ', NO seccomp filter'}${facts['rootless'] ? ', rootless' : ''}`,
        });
        const info = (await docker.info()) as { DockerRootDir?: string; Runtimes?: Record<string, unknown> };
        dockerRoot = info.DockerRootDir ?? null;
        const gpus = gpuClasses(classes, manifest);
        if (gpus.length === 0) {
          results.push({ check: 'nvidia', status: 'skip', found: 'no GPU executor class in the manifest' });
        } else if (!Object.hasOwn(info.Runtimes ?? {}, 'nvidia')) {
          results.push({
            check: 'nvidia',
            status: 'fail',
            found: `GPU classes (${gpus.map((g) => g.id).join(', ')}) but the engine has no nvidia runtime`,
            fix: 'install nvidia-container-toolkit, then: nvidia-ctk runtime configure --runtime=docker && systemctl restart docker',
          });
        } else {
          try {
            const toolkit = await new NvidiaToolkitCheck().run(checkContext(logger));
            results.push({
              check: 'nvidia',
              status: 'ok',
              found: `nvidia runtime present; toolkit ${Object.entries(toolkit)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ')}`,
            });
          } catch (error) {
            results.push({
              check: 'nvidia',
              status: 'fail',
              found: describe(error),
              fix: 'upgrade nvidia-container-toolkit to 1.17.4 or newer',
            });
          }
        }
      } catch (error) {
        results.push({
          check: 'docker',
          status: 'fail',
          found: describe(error),
          fix: 'start dockerd (systemctl start docker) or set DOCKER_HOST to its socket; the user needs access to it',
        });
      }
    } else {
      results.push({ check: 'docker', status: 'skip', found: `executor.runner is ${config.executor.runner}: jobs run without Docker` });
    }

    const paths = [
      { what: 'the data dir', path: config.dataDir },
      { what: 'job files', path: config.executor.workDir ?? tmpdir() },
    ];
    if (dockerRoot) paths.push({ what: 'Docker images', path: dockerRoot });
    results.push(...(await diskCheck(paths)));

    results.push(await reachabilityCheck(config));
    if (chain) {
      try {
        const announce = config.miner.announce;
        results.push(
          ...(await registrationCheck(
            chain,
            config.chain.netuid,
            hotkeys.map((h) => h.ss58),
            announce ? { ip: announce.ip, port: announce.port ?? config.miner.port } : null,
          )),
        );
      } catch (error) {
        results.push({
          check: 'registered',
          status: 'fail',
          found: `cannot read the metagraph: ${describe(error)}`,
          fix: 'check chain.network and chain.netuid',
        });
      }
      try {
        results.push(await clockSkewCheck(chain, () => Date.now()));
      } catch (error) {
        results.push({
          check: 'clock',
          status: 'fail',
          found: `cannot read the chain's time: ${describe(error)}`,
          fix: 'check chain.network',
        });
      }
    }
    return results;
  } finally {
    for (const resource of opened.reverse()) await resource.close().catch(() => undefined);
  }
}

const MARK: Record<DoctorResult['status'], string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

/** One line per check: status, name, what was found, and the fix. */
export function formatDoctor(results: readonly DoctorResult[]): string {
  const width = Math.max(...results.map((r) => r.check.length));
  return results.map((r) => `${MARK[r.status]}  ${r.check.padEnd(width)}  ${r.found}${r.fix ? ` → fix: ${r.fix}` : ''}`).join('\n');
}
