// The test services for the benchmarks (started by `bash test/services/start.sh`, as for the
// tests): each setting from the environment, else from start.sh's services.env.
import { existsSync, readFileSync } from 'node:fs';

export function servicesEnv() {
  const file = `${process.env.HORDE_TEST_DIR ?? '/tmp/horde-test'}/services.env`;
  if (!existsSync(file)) return {};
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => /^([A-Z0-9_]+)=(.*)$/.exec(line.trim()))
      .filter(Boolean)
      .map((m) => [m[1], m[2]]),
  );
}

/** A setting of the test services: the environment's, else services.env's, else `fallback`. */
export function serviceSetting(name, fallback) {
  return process.env[name] ?? servicesEnv()[name] ?? fallback;
}
