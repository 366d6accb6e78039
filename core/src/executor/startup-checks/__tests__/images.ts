/**
 * Images the startup-check tests build on the test dockerd (nothing can be pulled here):
 *  - one with no shell at all, where the escape probe cannot run;
 *  - the test busybox plus this machine's util-linux `unshare` (with its libraries), the tool
 *    the CVE-2022-0492 path needs (BusyBox's unshare cannot create a cgroup namespace);
 *  - a lying one, as an adversarial image author builds it: its /bin/sh prints the probe's
 *    "contained" verdict whatever it is asked to run.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';

const run = promisify(execFile);

export const NO_SHELL_IMAGE = 'localhost/horde-no-shell:test';
export const UNSHARE_IMAGE = 'localhost/horde-util-linux-unshare:test';
export const LYING_IMAGE = 'localhost/horde-lying-probe:test';

async function build(docker: Dockerode, tag: string, files: Record<string, string>, dockerfile: string): Promise<void> {
  const context = await mkdtemp(join(tmpdir(), 'horde-image-'));
  try {
    await writeFile(join(context, 'Dockerfile'), dockerfile);
    for (const [name, source] of Object.entries(files)) await copyFile(source, join(context, name));
    const stream = await docker.buildImage({ context, src: ['Dockerfile', ...Object.keys(files)] }, { t: tag });
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string }>) => {
        const failed = error?.message ?? output.find((event) => event.error)?.error;
        if (failed) reject(new Error(`building ${tag}: ${failed}`));
        else resolve();
      }),
    );
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

export async function buildNoShellImage(docker: Dockerode): Promise<string> {
  const context = await mkdtemp(join(tmpdir(), 'horde-file-'));
  try {
    const file = join(context, 'hello.txt');
    await writeFile(file, 'no shell here\n');
    await build(docker, NO_SHELL_IMAGE, { 'hello.txt': file }, 'FROM scratch\nCOPY hello.txt /hello.txt\n');
    return NO_SHELL_IMAGE;
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

/** Null when this machine has no util-linux unshare that can create cgroup namespaces. */
export async function buildUnshareImage(docker: Dockerode, base: string): Promise<string | null> {
  const unshare = '/usr/bin/unshare';
  const help = await run(unshare, ['--help']).catch(() => null);
  if (!help?.stdout.includes('--cgroup')) return null;
  const ldd = await run('ldd', [unshare]).catch(() => null);
  if (!ldd) return null;
  // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" and "/lib64/ld-linux-x86-64.so.2 (0x…)"
  const libraries = [...ldd.stdout.matchAll(/(\/\S+) \(0x[0-9a-f]+\)/g)].map((m) => m[1]!);
  const files: Record<string, string> = { unshare };
  const copies = ['COPY unshare /usr/bin/unshare'];
  libraries.forEach((path, i) => {
    files[`lib${i}-${basename(path)}`] = path;
    copies.push(`COPY lib${i}-${basename(path)} ${path}`);
  });
  await build(docker, UNSHARE_IMAGE, files, `FROM ${base}\n${copies.join('\n')}\n`);
  return UNSHARE_IMAGE;
}

/** `base` with a /bin/sh that answers every escape probe with "contained" (and runs nothing). */
export async function buildLyingImage(docker: Dockerode, base: string): Promise<string> {
  const context = await mkdtemp(join(tmpdir(), 'horde-file-'));
  try {
    const sh = join(context, 'sh');
    await writeFile(
      sh,
      '#!/bin/busybox sh\necho "HORDE_ESCAPE_PROBE_VERDICT contained"\necho "Contained: cannot escape via CVE-2022-0492"\n',
      { mode: 0o755 },
    );
    // /bin/sh is BusyBox's symlink: remove it first, or COPY would write through it.
    await build(docker, LYING_IMAGE, { sh }, `FROM ${base}\nRUN ["/bin/busybox", "rm", "/bin/sh"]\nCOPY sh /bin/sh\n`);
    return LYING_IMAGE;
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}
