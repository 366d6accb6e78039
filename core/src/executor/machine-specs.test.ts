import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMeminfo, parseNvidiaSmi, parseOsRelease, readMachineSpecs } from './machine-specs.js';

// What `nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap,power.limit,clocks.gr,
// clocks.mem,uuid,serial --format=csv,noheader,nounits` prints on a two-H100 machine.
const H100_CSV = [
  'NVIDIA H100 80GB HBM3, 550.90.07, 81559, 9.0, 700.00, 1980, 2619, GPU-6a4f6c1e-2d9b-8f7a-1c3e-5b7d9f0a2c4e, 1654922003125',
  'NVIDIA H100 80GB HBM3, 550.90.07, 81559, 9.0, 700.00, 345, 2619, GPU-0b8e2f4a-6c1d-3e5f-7a9b-2d4f6a8c0e1b, [N/A]',
  '',
].join('\n');

describe('machine specs', () => {
  let dir: string;
  let fakeSmi: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'horde-specs-'));
    // A GPU cannot be had here: this stands in for nvidia-smi, answering only the exact query
    // readMachineSpecs makes, with the real tool's output format.
    fakeSmi = join(dir, 'nvidia-smi');
    await writeFile(
      fakeSmi,
      `#!/bin/sh
[ "$1" = "--query-gpu=name,driver_version,memory.total,compute_cap,power.limit,clocks.gr,clocks.mem,uuid,serial" ] || { echo "bad query $1" >&2; exit 2; }
[ "$2" = "--format=csv,noheader,nounits" ] || { echo "bad format $2" >&2; exit 2; }
cat <<'CSV'
${H100_CSV}CSV
`,
    );
    await chmod(fakeSmi, 0o755);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('parses nvidia-smi rows into ComputeHorde gpu details', () => {
    const [first, second] = parseNvidiaSmi(H100_CSV);
    expect(first).toEqual({
      name: 'NVIDIA H100 80GB HBM3',
      driver: '550.90.07',
      capacity: '81559',
      cuda: '9.0',
      power_limit: '700.00',
      graphics_speed: '1980',
      memory_speed: '2619',
      uuid: 'GPU-6a4f6c1e-2d9b-8f7a-1c3e-5b7d9f0a2c4e',
      serial: '1654922003125',
    });
    expect(second?.serial).toBe('[N/A]');
  });

  it('reports GPUs, CPU, RAM, disk and OS of this machine', async () => {
    const specs = await readMachineSpecs({ nvidiaSmi: fakeSmi, diskPath: dir });
    expect(specs.gpu).toMatchObject({ count: 2, details: [{ name: 'NVIDIA H100 80GB HBM3' }, { cuda: '9.0' }] });
    const cpu = specs.cpu as { count: number; model: string; clocks: number[] };
    expect(cpu.count).toBeGreaterThan(0);
    expect(cpu.clocks).toHaveLength(cpu.count);
    const ram = specs.ram as { total: number; used: number; free: number };
    expect(ram.total).toBeGreaterThan(100_000); // kB
    expect(ram.used + ram.free).toBe(ram.total);
    const disk = specs.hard_disk as { total: number; free: number };
    expect(disk.total).toBeGreaterThan(disk.free);
    expect(typeof specs.os).toBe('string');
    expect(specs.os).not.toBe('');
    expect(Object.keys(specs).filter((k) => k.endsWith('_scrape_error'))).toEqual([]);
  });

  it('reports no GPUs when nvidia-smi is absent, and a scrape error when it fails', async () => {
    const none = await readMachineSpecs({ nvidiaSmi: join(dir, 'no-such-binary') });
    expect(none.gpu).toEqual({ count: 0, details: [] });
    expect(none.gpu_scrape_error).toBeUndefined();

    const failing = join(dir, 'failing-smi');
    await writeFile(
      failing,
      '#!/bin/sh\necho "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver." >&2\nexit 9\n',
    );
    await chmod(failing, 0o755);
    const broken = await readMachineSpecs({ nvidiaSmi: failing });
    expect(broken.gpu).toEqual({ count: 0, details: [] });
    expect(String(broken.gpu_scrape_error)).toMatch(/could not communicate/);
    expect((broken.cpu as { count: number }).count).toBeGreaterThan(0);
  });

  it('parses /proc/meminfo and /etc/os-release', () => {
    expect(parseMeminfo('MemTotal:       24000000 kB\nMemFree:        20000000 kB\nMemAvailable:   22000000 kB\n')).toEqual({
      total: 24_000_000,
      free: 20_000_000,
      available: 22_000_000,
      used: 4_000_000,
    });
    expect(parseOsRelease('NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')).toBe(
      'Debian GNU/Linux 12 (bookworm)',
    );
  });
});
