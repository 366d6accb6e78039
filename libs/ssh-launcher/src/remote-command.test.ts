import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { killCommand, launchCommand, NO_PROCESS_GROUP_EXIT, PGID_MARKER, remoteArgv } from './remote-command.js';

describe('remoteArgv', () => {
  it('replaces the local horde command in front of the executor subcommand with the remote one', () => {
    const local = [process.execPath, '/srv/horde/core/bin/horde.js', 'executor', '--miner-url', 'ws://m:1', '--token', 'T'];
    expect(remoteArgv(local, ['horde'])).toEqual(['horde', 'executor', '--miner-url', 'ws://m:1', '--token', 'T']);
    expect(remoteArgv(local, ['/opt/node/bin/node', '/opt/horde/bin/horde.js'])).toEqual([
      '/opt/node/bin/node',
      '/opt/horde/bin/horde.js',
      'executor',
      '--miner-url',
      'ws://m:1',
      '--token',
      'T',
    ]);
    // A miner's custom executorCommand is replaced the same way.
    expect(remoteArgv(['npx', 'horde', 'executor', '--token', 'T'], ['horde'])).toEqual(['horde', 'executor', '--token', 'T']);
  });

  it('runs an argv that is not a horde agent launch unchanged', () => {
    expect(remoteArgv(['/usr/bin/node', '-e', 'code'], ['horde'])).toEqual(['/usr/bin/node', '-e', 'code']);
  });
});

// The wrapper is plain POSIX sh: run it here, as sshd would (a session leader whose stdin is the
// channel), to check what it promises without an SSH server.
describe('launch wrapper', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  function run(argv: string[], env: Record<string, string>, { leader = true } = {}) {
    const { command, stdin } = launchCommand(argv, env);
    // `detached` = setsid: the shell leads a new session and process group, as under sshd.
    const child = spawn('/bin/sh', ['-c', command], { detached: leader, stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    child.stdin!.on('error', () => {}); // EPIPE when the wrapper exits before reading
    child.stdin!.write(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exit = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    return { child, exit, out: () => stdout, err: () => stderr };
  }

  async function until(what: string, check: () => boolean, ms = 5_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  const groupAlive = (pgid: number) => spawnSync('/bin/sh', ['-c', `kill -0 -${pgid}`]).status === 0;

  it('prints its process group, passes env and argv through untouched and exits with the agent status', async () => {
    const env = { EXECUTOR_TOKEN: "t'ok $HOME `x`", HORDE_EXECUTOR: '{"runner":"docker","a":"b c"}', EMPTY: '' };
    const script =
      'process.stdout.write(JSON.stringify({ argv: process.argv.slice(1), env: [process.env.EXECUTOR_TOKEN, process.env.HORDE_EXECUTOR, process.env.EMPTY] }) + "\\n"); process.exit(7)';
    const { child, exit, out } = run([process.execPath, '-e', script, 'a b', "it's", '$(id)', ''], env);
    const [code] = await exit;
    expect(code).toBe(7);
    const [marker, json] = out().trim().split('\n');
    expect(marker).toMatch(PGID_MARKER);
    expect(Number(PGID_MARKER.exec(marker!)![1])).toBe(child.pid);
    expect(JSON.parse(json!)).toEqual({ argv: ['a b', "it's", '$(id)', ''], env: [env.EXECUTOR_TOKEN, env.HORDE_EXECUTOR, ''] });
  });

  it('keeps env values out of every command line', () => {
    const { command } = launchCommand(['horde', 'executor'], { SECRET: 'hunter2-secret' });
    expect(command).not.toContain('hunter2');
  });

  it('kills the whole group when its stdin closes (the miner hung up or the connection dropped)', async () => {
    // The agent starts a grandchild that would outlive it.
    const { child, exit, out } = run(['/bin/sh', '-c', 'sleep 300 & sleep 300'], {});
    await until('the marker', () => PGID_MARKER.test(out().split('\n')[0] ?? ''));
    await until(
      'the agent to start',
      () =>
        spawnSync('pgrep', ['-g', String(child.pid), '-x', 'sleep'])
          .stdout.toString()
          .trim()
          .split('\n').length === 2,
    );
    child.stdin!.end();
    const [code, signal] = await exit;
    expect(code === null ? signal : code).toBe('SIGKILL');
    await until('the group to be gone', () => !groupAlive(child.pid!));
  });

  it('refuses to run when it does not lead its own process group', async () => {
    const { exit, err } = run(['/bin/true'], {}, { leader: false });
    const [code] = await exit;
    expect(code).toBe(NO_PROCESS_GROUP_EXIT);
    expect(err()).toMatch(/does not lead its own process group/);
  });

  it('on SIGTERM to the group the wrapper waits for the agent to finish cleaning up, then exits with its status', async () => {
    // The agent takes 300 ms to clean up after SIGTERM, then exits 3.
    const { child, exit, out } = run(['/bin/sh', '-c', `trap 'sleep 0.3; exit 3' TERM; sleep 300 & wait`], {});
    await until('the marker', () => PGID_MARKER.test(out().split('\n')[0] ?? ''));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sent = Date.now();
    expect(spawnSync('/bin/sh', ['-c', killCommand(child.pid!)]).status).toBe(0);
    const [code] = await exit;
    expect(code, "the wrapper exits with the agent's status").toBe(3);
    expect(Date.now() - sent, 'and only once the agent is done').toBeGreaterThanOrEqual(250);
  });

  it('what ignores SIGTERM dies when stdin closes, and the group id stays taken until then', async () => {
    const { child, exit, out } = run(['/bin/sh', '-c', `trap '' TERM; sleep 300 & wait`], {});
    await until('the marker', () => PGID_MARKER.test(out().split('\n')[0] ?? ''));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(spawnSync('/bin/sh', ['-c', killCommand(child.pid!)]).status).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(groupAlive(child.pid!), 'SIGTERM alone does not stop it').toBe(true);
    child.stdin!.end();
    await exit;
    await until('the group to be gone', () => !groupAlive(child.pid!));
    // Killing a group that is gone is harmless.
    expect(spawnSync('/bin/sh', ['-c', killCommand(child.pid!)]).status).toBe(0);
  });

  it('refuses to signal group 0 or 1', () => {
    expect(() => killCommand(0)).toThrow(RangeError);
    expect(() => killCommand(1)).toThrow(RangeError);
  });
});
