/**
 * The executor's machine specs, sent in `V0MachineSpecsRequest` as `{ specs: <this> }`. The shape
 * follows ComputeHorde's so validators can read either:
 *   gpu        { count, details: [{ name, driver, capacity (MiB), cuda (compute capability),
 *                power_limit (W), graphics_speed, memory_speed (MHz), uuid, serial }] }
 *   cpu        { count, model, clocks (MHz per logical CPU) }
 *   ram        { total, free, available, used } in kB, from /proc/meminfo
 *   hard_disk  { total, used, free } in KiB, of the file system holding `diskPath`
 *   os         pretty name from /etc/os-release
 * A part that cannot be read gets a `<part>_scrape_error` string instead of failing the whole.
 */
import { execFile } from 'node:child_process';
import { readFile, statfs } from 'node:fs/promises';
import { cpus } from 'node:os';
import { promisify } from 'node:util';
import { defineError } from '../errors.js';

/** A machine fact could not be read where Linux keeps it. */
export class MachineSpecsError extends defineError('HORDE_MACHINE_SPECS_UNREADABLE') {}

const run = promisify(execFile);

export interface MachineSpecsOptions {
  /** Where jobs' files live; its file system is reported as `hard_disk`. Default: the cwd. */
  readonly diskPath?: string;
  /** The nvidia-smi binary; default `nvidia-smi` on PATH. A missing binary means no GPUs. */
  readonly nvidiaSmi?: string;
}

export interface GpuDetails {
  name: string;
  driver: string;
  capacity: string;
  cuda: string;
  power_limit: string;
  graphics_speed: string;
  memory_speed: string;
  uuid: string;
  serial: string;
}

const GPU_QUERY = 'name,driver_version,memory.total,compute_cap,power.limit,clocks.gr,clocks.mem,uuid,serial';

/** Rows of `nvidia-smi --query-gpu=<GPU_QUERY> --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): GpuDetails[] {
  return csv
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [name = '', driver = '', capacity = '', cuda = '', powerLimit = '', graphics = '', memory = '', uuid = '', serial = ''] = line
        .split(',')
        .map((field) => field.trim());
      return { name, driver, capacity, cuda, power_limit: powerLimit, graphics_speed: graphics, memory_speed: memory, uuid, serial };
    });
}

async function readGpus(nvidiaSmi: string): Promise<{ count: number; details: GpuDetails[] }> {
  try {
    const { stdout } = await run(nvidiaSmi, [`--query-gpu=${GPU_QUERY}`, '--format=csv,noheader,nounits'], { timeout: 15_000 });
    const details = parseNvidiaSmi(stdout);
    return { count: details.length, details };
  } catch (error) {
    // No nvidia-smi: a CPU machine, not an error.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { count: 0, details: [] };
    throw error;
  }
}

function readCpu(): { count: number; model: string; clocks: number[] } {
  const list = cpus();
  return { count: list.length, model: list[0]?.model.trim() ?? '', clocks: list.map((c) => c.speed) };
}

/** /proc/meminfo values in kB. */
export function parseMeminfo(text: string): { total: number; free: number; available: number; used: number } {
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s*(\\d+)\\s+kB$`, 'm').exec(text);
    if (!match) throw new MachineSpecsError(`${name} missing from /proc/meminfo`);
    return Number(match[1]);
  };
  const total = field('MemTotal');
  const free = field('MemFree');
  return { total, free, available: field('MemAvailable'), used: total - free };
}

async function readDisk(path: string): Promise<{ total: number; used: number; free: number }> {
  const fs = await statfs(path);
  const total = Math.floor((fs.blocks * fs.bsize) / 1024);
  const free = Math.floor((fs.bavail * fs.bsize) / 1024);
  return { total, used: total - Math.floor((fs.bfree * fs.bsize) / 1024), free };
}

/** PRETTY_NAME of /etc/os-release (what `lsb_release -d` prints). */
export function parseOsRelease(text: string): string {
  const match = /^PRETTY_NAME=(.*)$/m.exec(text);
  if (!match) throw new MachineSpecsError('PRETTY_NAME missing from /etc/os-release');
  return match[1]!.trim().replace(/^(["'])(.*)\1$/, '$2');
}

async function attempt<T>(specs: Record<string, unknown>, key: string, read: () => Promise<T> | T): Promise<void> {
  try {
    specs[key] = await read();
  } catch (error) {
    specs[`${key}_scrape_error`] = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
}

export async function readMachineSpecs(options: MachineSpecsOptions = {}): Promise<Record<string, unknown>> {
  const specs: Record<string, unknown> = {
    gpu: { count: 0, details: [] },
    cpu: { count: 0, model: '', clocks: [] },
    ram: {},
    hard_disk: {},
    os: '',
  };
  await Promise.all([
    attempt(specs, 'gpu', () => readGpus(options.nvidiaSmi ?? 'nvidia-smi')),
    attempt(specs, 'cpu', readCpu),
    attempt(specs, 'ram', async () => parseMeminfo(await readFile('/proc/meminfo', 'utf8'))),
    attempt(specs, 'hard_disk', () => readDisk(options.diskPath ?? process.cwd())),
    attempt(specs, 'os', async () => parseOsRelease(await readFile('/etc/os-release', 'utf8'))),
  ]);
  return specs;
}
