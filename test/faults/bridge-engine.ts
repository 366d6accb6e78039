/**
 * A Docker engine of the fault suite's own, with a working bridge network. The shared test engine
 * runs with `--bridge=none`, where "a job container reaches nothing" holds by construction; on this
 * one a container given the bridge does reach the host, so an isolation test here can fail.
 * Needs root and dockerd (as the shared engine does); no iptables rules are added (the host's
 * addresses on the bridge are reachable without NAT).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import Dockerode from 'dockerode';

/** Short paths: the socket path is limited to 108 bytes. */
const DIR = process.env.HORDE_TEST_BRIDGE_DOCKER_DIR ?? '/tmp/hdb';
/** The bridge's subnet, away from Docker's default 172.17/16 and from the shared engine (none). */
export const BRIDGE_GATEWAY = '172.31.250.1';

export class BridgeEngineError extends Error {
  readonly code = 'BRIDGE_ENGINE_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'BridgeEngineError';
  }
}

export interface BridgeEngine {
  readonly docker: Dockerode;
  readonly socketPath: string;
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts the engine (or stops a leftover of an earlier run of this suite first) and waits for it. */
export async function startBridgeEngine(): Promise<BridgeEngine> {
  if (process.getuid?.() !== 0) throw new BridgeEngineError('the bridge engine needs root (dockerd), as the shared test engine does');
  mkdirSync(DIR, { recursive: true });
  const pidFile = `${DIR}/dockerd.pid`;
  if (existsSync(pidFile)) {
    const stale = Number(readFileSync(pidFile, 'utf8'));
    if (stale > 0 && alive(stale)) {
      process.kill(stale, 'SIGTERM');
      for (let i = 0; i < 100 && alive(stale); i++) await new Promise((r) => setTimeout(r, 100));
    }
  }
  const socketPath = `${DIR}/docker.sock`;
  const log = openSync(`${DIR}/log`, 'a');
  const child = spawn(
    'dockerd',
    [
      '--bip',
      `${BRIDGE_GATEWAY}/24`,
      '--iptables=false',
      '--ip6tables=false',
      '--ip-forward=false',
      '-H',
      `unix://${socketPath}`,
      '--data-root',
      `${DIR}/data`,
      '--exec-root',
      `${DIR}/exec`,
      '--pidfile',
      pidFile,
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (error) => reject(new BridgeEngineError(`dockerd could not start: ${error.message} (apt-get install docker.io)`))),
  );
  child.unref();
  const docker = new Dockerode({ socketPath });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await Promise.race([docker.ping(), spawnError]);
      break;
    } catch (error) {
      if (error instanceof BridgeEngineError) throw error;
      if (child.exitCode !== null || Date.now() > deadline)
        throw new BridgeEngineError(`dockerd did not come up (exit ${child.exitCode}); see ${DIR}/log`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    docker,
    socketPath,
    async stop() {
      if (child.exitCode !== null || child.pid === undefined) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(child.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    },
  };
}

/** Copies `image` from `from` into `to` (docker save | docker load), unless `to` has it. */
export async function copyImage(from: Dockerode, to: Dockerode, image: string): Promise<void> {
  try {
    await to.getImage(image).inspect();
    return;
  } catch {
    // not there yet
  }
  const tar = await from.getImage(image).get();
  const loaded = await to.loadImage(tar);
  await new Promise<void>((resolve, reject) =>
    to.modem.followProgress(loaded, (error: Error | null) => (error ? reject(error) : resolve())),
  );
}
