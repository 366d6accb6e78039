// The startup clean-up against the real test dockerd, with real leftover containers.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { docker, testImage } from '../../../../test/support/services.js';
import { currentOwner, OWNER_LABELS, type ContainerOwner } from '../runners/docker.js';
import { leftoverReason, removeLeftoverJobContainers, removeLeftoverJobNetworks } from './leftover-containers.js';

const logger = pino({ level: 'silent' });
const self: ContainerOwner = { host: 'exec-host', bootId: 'boot-1', pid: 1000 };
const labels = (owner: ContainerOwner) => ({
  [OWNER_LABELS.host]: owner.host,
  [OWNER_LABELS.bootId]: owner.bootId,
  [OWNER_LABELS.pid]: String(owner.pid),
});

describe('leftoverReason', () => {
  const alive = (pid: number) => pid === 2000;
  it('treats a container without owner labels as a leftover (as the original treats every ch-*-job)', () => {
    expect(leftoverReason({ 'horde.job-uuid': 'x' }, self, alive)).toBe('no owner labels');
  });
  it('keeps containers of a live executor on this host, and of this process', () => {
    expect(leftoverReason(labels({ ...self, pid: 2000 }), self, alive)).toBeNull();
    expect(leftoverReason(labels(self), self, () => false)).toBeNull();
  });
  it('removes containers whose executor is gone, or ran before a reboot', () => {
    expect(leftoverReason(labels({ ...self, pid: 3000 }), self, alive)).toBe('owner process 3000 is gone');
    expect(leftoverReason(labels({ ...self, pid: 2000, bootId: 'boot-0' }), self, alive)).toBe('owner ran before the last reboot');
  });
  it('leaves containers of another host alone: it cannot tell whether their owner lives', () => {
    expect(leftoverReason(labels({ host: 'other', bootId: 'boot-1', pid: 3000 }), self, alive)).toBeNull();
  });
});

describe('removeLeftoverJobContainers', () => {
  const made: string[] = [];
  afterAll(async () => {
    for (const name of made)
      await docker()
        .getContainer(name)
        .remove({ force: true })
        .catch(() => {});
  });

  async function container(name: string, containerLabels: Record<string, string>, running: boolean): Promise<string> {
    const c = await docker().createContainer({
      name,
      Image: testImage(),
      Cmd: ['sleep', '300'],
      Labels: containerLabels,
      HostConfig: { NetworkMode: 'none' },
    });
    made.push(name);
    if (running) await c.start();
    return name;
  }
  async function exists(name: string): Promise<boolean> {
    return docker()
      .getContainer(name)
      .inspect()
      .then(
        () => true,
        () => false,
      );
  }

  it("removes job containers of dead executors and unlabelled ones; keeps live executors' and other containers", async () => {
    const me = currentOwner();
    // A pid that existed and is gone: a child that has exited.
    const child = spawn('true');
    await once(child, 'exit');
    const deadPid = child.pid!;
    const live = spawn('sleep', ['60']);
    try {
      const id = randomUUID().slice(0, 8);
      const crashed = await container(`horde-${id}-crashed-job`, { ...labels({ ...me, pid: deadPid }), 'horde.job-uuid': id }, true);
      const unlabelled = await container(`horde-${id}-old-job`, {}, false);
      const neighbour = await container(`horde-${id}-neighbour-job`, labels({ ...me, pid: live.pid! }), true);
      const notAJob = await container(`horde-${id}-nginx`, {}, false);
      const result = await removeLeftoverJobContainers(docker(), logger, me);
      // (Another executor on this engine may clean the same leftovers first: check what is left.)
      expect(result.removed).not.toContain(neighbour);
      expect(result.removed).not.toContain(notAJob);
      expect(await exists(crashed)).toBe(false);
      expect(await exists(unlabelled)).toBe(false);
      expect(await exists(neighbour)).toBe(true);
      expect(await exists(notAJob)).toBe(true);
    } finally {
      live.kill();
    }
  });
});

describe('removeLeftoverJobNetworks', () => {
  const made: string[] = [];
  afterAll(async () => {
    for (const name of made)
      await docker()
        .getNetwork(name)
        .remove()
        .catch(() => {});
  });

  it("removes streaming jobs' networks of dead executors, keeps a live executor's and other networks", async () => {
    const me = currentOwner();
    const tag = randomUUID().slice(0, 8);
    const make = async (name: string, networkLabels: Record<string, string>) => {
      await docker().createNetwork({ Name: name, Internal: true, Labels: networkLabels });
      made.push(name);
      return name;
    };
    const dead = await make(`horde-${tag}-dead-net`, labels({ ...me, pid: 999_999_999 }));
    const mine = await make(`horde-${tag}-mine-net`, labels(me));
    const other = await make(`horde-${tag}-other`, {});
    const result = await removeLeftoverJobNetworks(docker(), logger, me);
    expect(result.removed).toContain(dead);
    expect(result.removed).not.toContain(mine);
    const names = (await docker().listNetworks({ filters: { name: [tag] } })).map((n: { Name: string }) => n.Name).sort();
    expect(names).toEqual([mine, other].sort());
  });
});
