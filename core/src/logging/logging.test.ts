import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '@horde/core/runtime';

const dir = mkdtempSync(join(tmpdir(), 'horde-logs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('createLogger', () => {
  it('writes one JSON line per event to a file, with fields and child bindings, creating the directory', () => {
    const file = join(dir, 'devnet', 'miner-1.log');
    const logger = createLogger({ level: 'debug', destination: file, base: { role: 'miner' } });
    logger.child({ plugin: '@horde/plugin-x' }).info({ jobUuid: 'j-1', minerHotkey: '5F…' }, 'job accepted');
    logger.debug('details');
    logger.trace('not at this level');
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 30,
      role: 'miner',
      plugin: '@horde/plugin-x',
      jobUuid: 'j-1',
      minerHotkey: '5F…',
      msg: 'job accepted',
    });
    expect(lines[1]).toMatchObject({ level: 20, msg: 'details' });
  });

  it('filters by level', () => {
    const { stream, text } = capture();
    const logger = createLogger({ level: 'warn', destination: stream });
    logger.info('hidden');
    logger.warn('shown');
    expect(text()).not.toContain('hidden');
    expect(JSON.parse(text())).toMatchObject({ level: 40, msg: 'shown' });
  });

  it('writes human-readable lines when pretty', () => {
    const { stream, text } = capture();
    createLogger({ level: 'info', pretty: true, destination: stream }).info({ jobUuid: 'j-2' }, 'pretty line');
    expect(text()).toMatch(/INFO.*pretty line/);
    expect(text()).toContain('jobUuid: "j-2"');
    expect(() => JSON.parse(text())).toThrow();
  });

  it('defaults to JSON on stdout when stdout is not a terminal (a service, a pipe)', () => {
    // The built module, in a child process whose stdout is a pipe.
    const logging = new URL('../../dist/logging/index.js', import.meta.url).href;
    const output = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `import { createLogger } from '${logging}'; createLogger().info({ jobUuid: 'j-3' }, 'to a pipe');`],
      {
        encoding: 'utf8',
      },
    );
    expect(JSON.parse(output)).toMatchObject({ level: 30, jobUuid: 'j-3', msg: 'to a pipe' });
  });
});
