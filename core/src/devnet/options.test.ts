import { describe, expect, it } from 'vitest';
import { DevnetOptionsError } from './errors.js';
import { parseDevnetOptions } from './options.js';

const refused = (raw: Parameters<typeof parseDevnetOptions>[0]) => {
  try {
    parseDevnetOptions(raw, '/work');
  } catch (error) {
    expect(error).toBeInstanceOf(DevnetOptionsError);
    return (error as DevnetOptionsError).message;
  }
  throw new Error('accepted');
};

describe('parseDevnetOptions', () => {
  it('fills in the documented defaults', () => {
    expect(parseDevnetOptions({}, '/work')).toEqual({
      miners: 3,
      executors: 2,
      cycles: 2,
      cheaters: 0,
      dancers: 0,
      farmers: 0,
      blockTimeMs: 100,
      cycleBlocks: 150,
      dataDir: null,
      postgres: null,
      docker: false,
      json: null,
      progress: null,
      plugins: [],
      minerPlugins: [],
      validatorPlugins: [],
      ports: null,
      commitReveal: 'hash',
      dashboard: false,
      dashboardPort: 0,
      validatorWorkers: 1,
    });
  });

  it('--validator-workers takes 1 to 8 workers; more than one needs --postgres and no --dashboard', () => {
    const pg = 'postgres://postgres@127.0.0.1:5432/horde';
    expect(parseDevnetOptions({ validatorWorkers: '2', postgres: pg }, '/work')).toMatchObject({ validatorWorkers: 2, postgres: pg });
    expect(parseDevnetOptions({ validatorWorkers: '1' }, '/work').validatorWorkers).toBe(1);
    expect(refused({ validatorWorkers: '2' })).toBe(
      "--validator-workers 2 needs --postgres URL: validator workers share their work through PostgreSQL (the devnet's SQLite stores serve one process each)",
    );
    expect(refused({ validatorWorkers: '2', postgres: pg, dashboard: true })).toContain(
      '--dashboard serves one dashboard per process, and --validator-workers 2 makes the validator several processes',
    );
    for (const validatorWorkers of ['0', '9', 'two', '1.5'])
      expect(refused({ validatorWorkers, postgres: pg })).toContain('--validator-workers must be a whole number from 1 to 8');
  });

  it('takes plugins per role (paths made absolute) and a port range', () => {
    const options = parseDevnetOptions(
      { minerPlugins: ['./my-manager', 'horde-plugin-pool'], validatorPlugins: ['../rule/dist/index.js'], ports: '9000-9019' },
      '/work/app',
    );
    expect(options.minerPlugins).toEqual(['/work/app/my-manager', 'horde-plugin-pool']);
    expect(options.validatorPlugins).toEqual(['/work/rule/dist/index.js']);
    expect(options.ports).toEqual({ from: 9000, to: 9019 });
  });

  it('refuses a port range that is no range', () => {
    for (const ports of ['9000', '9100-9000', '80-90', '9000-70000', 'a-b']) {
      expect(refused({ ports })).toContain('--ports must be a range <from>-<to> of ports from 1024 to 65535');
    }
  });

  it('takes --commit-reveal hash or timelock and refuses anything else', () => {
    expect(parseDevnetOptions({ commitReveal: 'timelock' }, '/work').commitReveal).toBe('timelock');
    expect(() => parseDevnetOptions({ commitReveal: 'v3' }, '/work')).toThrow('--commit-reveal must be hash or timelock');
  });

  it('--dashboard serves on a free port; --dashboard-port names one and implies --dashboard', () => {
    expect(parseDevnetOptions({ dashboard: true })).toMatchObject({ dashboard: true, dashboardPort: 0 });
    expect(parseDevnetOptions({ dashboardPort: '9181' })).toMatchObject({ dashboard: true, dashboardPort: 9181 });
    expect(refused({ dashboardPort: '70000' })).toBe('--dashboard-port must be a whole number from 0 to 65535, got "70000"');
  });

  it('reads the flags as commander hands them (strings) and makes paths absolute', () => {
    const options = parseDevnetOptions(
      {
        miners: '5',
        executors: '1',
        cycles: '3',
        cheaters: '1',
        dancers: '2',
        dataDir: 'run',
        json: 'out/summary.json',
        progress: false,
        plugins: ['./mine.js', '@acme/horde-plugin-x'],
      },
      '/work',
    );
    expect(options).toMatchObject({
      miners: 5,
      executors: 1,
      cycles: 3,
      cheaters: 1,
      dancers: 2,
      dataDir: '/work/run',
      json: '/work/out/summary.json',
      progress: false,
    });
    expect(options.plugins).toEqual(['/work/mine.js', '@acme/horde-plugin-x']);
  });

  it('refuses bad numbers, naming the flag and the value', () => {
    expect(refused({ miners: '-2' })).toBe('--miners must be a whole number from 1 to 64, got "-2"');
    expect(refused({ executors: '1.5' })).toBe('--executors must be a whole number from 1 to 32, got "1.5"');
    expect(refused({ cycles: 'two' })).toBe('--cycles must be a whole number from 1 to 1000, got "two"');
    expect(refused({ cheaters: '' })).toBe('--cheaters must be a whole number from 0 to 64, got ""');
  });

  it('lists every bad flag at once', () => {
    const message = refused({ miners: '0', executors: '0' });
    expect(message).toContain('--miners must be');
    expect(message).toContain('--executors must be');
  });

  it('refuses more cheaters or dancers than miners', () => {
    expect(refused({ miners: '3', cheaters: '4' })).toBe('--cheaters (4) is more than --miners (3): a cheater is one of the miners');
    expect(refused({ miners: '1', dancers: '2' })).toBe('--dancers (2) is more than --miners (1): a dancer is one of the miners');
    expect(refused({ miners: '3', cheaters: '2', dancers: '2' })).toMatch(
      /--cheaters \(2\) plus --dancers \(2\) is more than --miners \(3\)/,
    );
    expect(parseDevnetOptions({ miners: '3', cheaters: '1', dancers: '2' }).cheaters).toBe(1);
    expect(refused({ miners: '3', cheaters: '1', dancers: '1', farmers: '2' })).toMatch(
      /--cheaters, --dancers and --farmers \(4 in all\) are more than --miners \(3\)/,
    );
    expect(parseDevnetOptions({ miners: '4', cheaters: '1', dancers: '1', farmers: '1' }).farmers).toBe(1);
  });

  it('refuses a cycle too short for a batch', () => {
    expect(refused({ cycleBlocks: '40', blockTimeMs: '100' })).toMatch(/lasts 4000 ms; it must last at least 8000 ms/);
    expect(parseDevnetOptions({ cycleBlocks: '20', blockTimeMs: '400' }).cycleBlocks).toBe(20);
  });

  it('refuses a --postgres value that is not a postgres URL', () => {
    expect(refused({ postgres: 'mysql://db/horde' })).toMatch(/--postgres must be a postgres:\/\/ URL/);
    expect(parseDevnetOptions({ postgres: 'postgres://u@127.0.0.1:5432/horde' }).postgres).toBe('postgres://u@127.0.0.1:5432/horde');
  });
});
