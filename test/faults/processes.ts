/** Whether processes and job containers are still there, for the kill -9 fault tests. */
import { readFileSync } from 'node:fs';
import type Dockerode from 'dockerode';

/** A live process (a zombie waiting for its parent counts as gone: it runs nothing). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Containers (running or not) labelled with the job's uuid. */
export async function jobContainers(docker: Dockerode, jobUuid: string): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`horde.job-uuid=${jobUuid}`] } });
}

export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
