import { spawn } from 'node:child_process';

/**
 * Runs the package manager's install in the new package, its output going straight to the user.
 * @param {readonly string[]} argv  e.g. `['npm', 'install']`
 * @param {string} cwd
 * @returns {Promise<{ ok: true } | { ok: false, reason: string }>}
 */
export function runInstall(argv, cwd) {
  const [command = 'npm', ...args] = argv;
  return new Promise((resolve) => {
    // A shell on Windows only, where npm is npm.cmd.
    const child = spawn(command, args, { cwd, stdio: 'inherit', shell: process.platform === 'win32' });
    child.once('error', (error) => resolve({ ok: false, reason: error.message }));
    child.once('exit', (code, signal) => {
      if (code === 0) resolve({ ok: true });
      else resolve({ ok: false, reason: signal ? `killed by ${signal}` : `exit code ${code}` });
    });
  });
}
