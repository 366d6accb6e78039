import { shellQuote } from '@horde/ssh-launcher';

/** `GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-…)`: one line per device in `nvidia-smi -L`. */
const GPU_LINE = /^GPU (\d+): /;

/**
 * The device indexes `nvidia-smi -L` lists, in order and each once. Lines that are not a device
 * (MIG children, warnings) are skipped: only whole GPUs get an executor.
 */
export function parseNvidiaSmiList(output: string): string[] {
  const devices: string[] = [];
  for (const line of output.split('\n')) {
    const match = GPU_LINE.exec(line.trim());
    if (match && !devices.includes(match[1]!)) devices.push(match[1]!);
  }
  return devices;
}

/** The command the `detect` probe runs: the host's GPUs, one line each. */
export function gpuListCommand(nvidiaSmi: string): string {
  return `${shellQuote(nvidiaSmi)} -L`;
}

/** Devices 0..count-1, as configured with `gpus: N`. */
export function configuredDevices(count: number): string[] {
  return Array.from({ length: count }, (_, index) => String(index));
}
