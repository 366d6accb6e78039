import { statfs } from 'node:fs/promises';
import type { Chain, HardwareClass } from '../contracts/index.js';
import type { HordeConfig } from '../config/index.js';

/** How a check came out: `skip` when it does not apply to this config. */
export type DoctorStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One line of `horde doctor`: what was checked, what was found, and (unless ok) the fix. */
export interface DoctorResult {
  readonly check: string;
  readonly status: DoctorStatus;
  readonly found: string;
  readonly fix?: string;
}

/** Below this much free space a miner cannot hold typical job images (a CUDA image is 5–20 GB). */
export const DISK_FAIL_GB = 10;
export const DISK_WARN_GB = 50;
/** Clock skew that breaks receipts (validators check receipt times within seconds) and auth. */
export const SKEW_WARN_MS = 2_000;
export const SKEW_FAIL_MS = 10_000;

const GB = 1024 ** 3;

/** The miner's `/healthz` at `host:port` from a socket of our own, or why it did not answer. */
export async function healthAt(host: string, port: number, timeoutMs = 3_000): Promise<{ ok: true } | { ok: false; error: string }> {
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/healthz`;
  try {
    const reply = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return reply.ok ? { ok: true } : { ok: false, error: `HTTP ${reply.status}` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return { ok: false, error: cause?.code ?? (error as Error).message };
  }
}

/** Validators must reach the announced address; the usual mistakes are loopback-only and a closed port. */
export async function reachabilityCheck(config: HordeConfig): Promise<DoctorResult> {
  const check = 'reachable';
  const announce = config.miner.announce;
  if (config.miner.localMode !== null)
    return { check, status: 'skip', found: 'local (trusted-miner) mode: only its validator connects, over the configured address' };
  if (!announce) {
    return {
      check,
      status: 'fail',
      found: 'miner.announce is not set: nothing is put on chain, so no validator can find this miner',
      fix: 'set miner.announce.ip to the public IP validators connect to',
    };
  }
  const port = announce.port ?? config.miner.port;
  const outside = await healthAt(announce.ip, port);
  if (outside.ok) return { check, status: 'ok', found: `the miner answers on the announced ${announce.ip}:${port}` };
  const loopback = await healthAt('127.0.0.1', config.miner.port);
  if (loopback.ok) {
    return {
      check,
      status: 'fail',
      found: `only loopback answers: 127.0.0.1:${config.miner.port} does, the announced ${announce.ip}:${port} does not (${outside.error})`,
      fix: `set miner.host to 0.0.0.0 (it is ${config.miner.host}), open TCP ${port} in the firewall, or forward it to this machine; then check from another machine: curl http://${announce.ip}:${port}/healthz`,
    };
  }
  return {
    check,
    status: 'fail',
    found: `nothing answers on ${announce.ip}:${port} (${outside.error}) nor on 127.0.0.1:${config.miner.port} (${loopback.error})`,
    fix: 'start the miner (horde miner --config …) and run horde doctor again',
  };
}

/** The hotkeys must be registered on the subnet (a miner that is not gets no validator). */
export async function registrationCheck(
  chain: Chain,
  netuid: number,
  hotkeys: readonly string[],
  announced: { ip: string; port: number } | null,
): Promise<DoctorResult[]> {
  const metagraph = await chain.metagraph(netuid);
  return hotkeys.map((hotkey) => {
    const check = 'registered';
    const neuron = metagraph.neurons.find((n) => n.hotkey === hotkey);
    if (!neuron) {
      return {
        check,
        status: 'fail',
        found: `${hotkey} is not registered on netuid ${netuid} (${chain.network})`,
        fix: `register it: btcli subnet register --netuid ${netuid} --wallet.name <wallet> --wallet.hotkey <hotkey>`,
      };
    }
    if (announced && (!neuron.axon || neuron.axon.ip !== announced.ip || neuron.axon.port !== announced.port)) {
      const onChain = neuron.axon ? `${neuron.axon.ip}:${neuron.axon.port}` : 'no axon';
      return {
        check,
        status: 'warn',
        found: `${hotkey} is uid ${neuron.uid}, but its axon on chain is ${onChain}, not the configured ${announced.ip}:${announced.port}`,
        fix: 'start the miner: it announces miner.announce on start (and every announce.intervalSeconds)',
      };
    }
    return {
      check,
      status: 'ok',
      found: `${hotkey} is uid ${neuron.uid} on netuid ${netuid}${neuron.axon ? `, axon ${neuron.axon.ip}:${neuron.axon.port}` : ''}`,
    };
  });
}

/** This machine's clock against the chain's: receipts and auth carry timestamps checked to seconds. */
export async function clockSkewCheck(chain: Chain, now: () => number): Promise<DoctorResult> {
  const check = 'clock';
  if (!chain.chainTime)
    return { check, status: 'skip', found: `the ${chain.network} chain keeps this machine's time (no clock of its own to compare with)` };
  const before = now();
  const chainMs = await chain.chainTime();
  const local = (before + now()) / 2;
  // A block's timestamp is when it was made: up to one block (12 s) behind the chain's present.
  const skew = local - chainMs;
  const behind = skew < 0 ? -skew : Math.max(0, skew - 12_000);
  const found = `this machine is ${Math.round(Math.abs(skew))} ms ${skew >= 0 ? 'ahead of' : 'behind'} the last block's timestamp`;
  if (behind > SKEW_FAIL_MS)
    return { check, status: 'fail', found, fix: 'synchronise the clock (timedatectl set-ntp true, or chrony/ntpd)' };
  if (behind > SKEW_WARN_MS)
    return { check, status: 'warn', found, fix: 'synchronise the clock (timedatectl set-ntp true, or chrony/ntpd)' };
  return { check, status: 'ok', found };
}

/** Free space where job images and job files go. */
export async function diskCheck(paths: ReadonlyArray<{ what: string; path: string }>): Promise<DoctorResult[]> {
  return Promise.all(
    paths.map(async ({ what, path }) => {
      const check = 'disk';
      try {
        const stats = await statfs(path);
        const freeGb = (Number(stats.bavail) * Number(stats.bsize)) / GB;
        const found = `${freeGb.toFixed(1)} GB free for ${what} (${path})`;
        if (freeGb < DISK_FAIL_GB)
          return {
            check,
            status: 'fail' as const,
            found,
            fix: `free space there: job images need tens of GB (at least ${DISK_FAIL_GB} GB, ${DISK_WARN_GB} GB recommended); docker image prune -a removes unused images`,
          };
        if (freeGb < DISK_WARN_GB)
          return { check, status: 'warn' as const, found, fix: `${DISK_WARN_GB} GB or more is recommended for GPU job images` };
        return { check, status: 'ok' as const, found };
      } catch (error) {
        return {
          check,
          status: 'fail' as const,
          found: `cannot read free space of ${path}: ${(error as Error).message}`,
          fix: `create ${path} or fix its permissions`,
        };
      }
    }),
  );
}

/** Whether any configured hardware class needs a GPU. */
export function gpuClasses(classes: readonly HardwareClass[], manifest: Record<string, number>): HardwareClass[] {
  return classes.filter((hc) => (hc.resources.gpu?.count ?? 0) > 0 && (manifest[hc.id] ?? 0) > 0);
}
