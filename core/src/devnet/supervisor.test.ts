import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killMarkedProcesses, ProcessSupervisor } from './supervisor.js';

const dir = mkdtempSync(join(tmpdir(), 'horde-supervisor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls until `pid` is gone (a killed child may linger a moment before its parent reaps it). */
async function gone(pid: number, timeoutMs = 3_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !alive(pid);
}

describe('ProcessSupervisor', () => {
  it('logs output to a file, and stops a child with everything it started', async () => {
    const supervisor = new ProcessSupervisor();
    const logFile = join(dir, 'logs', 'parent.log');
    // The child starts a grandchild in its own (the child's) process group and reports its pid.
    const script = `
      const { spawn } = require('node:child_process');
      const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      console.log('grandchild ' + grandchild.pid);
      setInterval(() => {}, 1000);`;
    const child = supervisor.spawn({ name: 'parent', argv: [process.execPath, '-e', script], logFile, ipc: false });
    let grandchild = 0;
    for (let i = 0; i < 100 && grandchild === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      grandchild = Number(/grandchild (\d+)/.exec(readFileSync(logFile, 'utf8'))?.[1] ?? 0);
    }
    expect(grandchild).toBeGreaterThan(0);
    expect(supervisor.running).toHaveLength(1);
    await supervisor.stopAll(2_000);
    expect(await child.exited).toBeNull(); // killed by SIGTERM
    expect(await gone(grandchild)).toBe(true);
    expect(supervisor.running).toHaveLength(0);
  });

  it('kills a child that ignores SIGTERM once the grace period is over', async () => {
    const supervisor = new ProcessSupervisor();
    const child = supervisor.spawn({
      name: 'stubborn',
      argv: [
        process.execPath,
        '-e',
        "process.on('SIGTERM', () => console.log('ignoring')); console.log('up'); setInterval(() => {}, 1000)",
      ],
      logFile: join(dir, 'logs', 'stubborn.log'),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    await supervisor.stopAll(500);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(child.child.signalCode).toBe('SIGKILL');
    expect(readFileSync(join(dir, 'logs', 'stubborn.log'), 'utf8')).toContain('ignoring');
  });

  it('opens an IPC channel when asked', async () => {
    const supervisor = new ProcessSupervisor();
    const child = supervisor.spawn({
      name: 'talker',
      argv: [process.execPath, '-e', "process.send({ hello: 'devnet' }, () => process.disconnect())"],
      logFile: join(dir, 'logs', 'talker.log'),
      ipc: true,
    });
    const message = await new Promise((resolve) => child.child.once('message', resolve));
    expect(message).toEqual({ hello: 'devnet' });
    expect(await child.exited).toBe(0);
  });
});

describe('killMarkedProcesses', () => {
  it.runIf(process.platform === 'linux')('kills processes whose environment carries the mark, and only those', async () => {
    const marked = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, HORDE_TEST_MARK: dir },
    });
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, HORDE_TEST_MARK: `${dir}-other` },
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    try {
      expect(killMarkedProcesses('HORDE_TEST_MARK', dir)).toEqual([marked.pid]);
      expect(await gone(marked.pid!)).toBe(true);
      expect(alive(other.pid!)).toBe(true);
    } finally {
      other.kill('SIGKILL');
      marked.kill('SIGKILL');
    }
  });
});
