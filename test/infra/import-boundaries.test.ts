/**
 * The import boundaries (`.oxlintrc.json`, run by `npm run lint` in .ci/run) catch the leaks they
 * exist for: each case below writes one offending (or allowed) import into a scratch copy of the
 * repository layout and lints it with the repository's own config, so a rule that silently stops
 * matching (a typo in a pattern, a moved folder) fails here instead of letting leaks back in.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const OXLINT = join(REPO, 'node_modules/oxlint/bin/oxlint');

interface Case {
  readonly file: string;
  readonly source: string;
  /** Whether the boundary lint must refuse it. */
  readonly refused: boolean;
}

const CASES: readonly Case[] = [
  // roles meet on the wire only
  {
    file: 'core/src/facilitator/server.ts',
    source: "import { ValidatorDirectory } from '../miner/validator-directory.js';",
    refused: true,
  },
  { file: 'core/src/miner/jobs/job-hub.ts', source: "import { withRetries } from '../../executor/retry.js';", refused: true },
  {
    file: 'core/src/validator/receipts/transfer.ts',
    source: "import { receiptPageAt } from '../../miner/receipts/pages.js';",
    refused: true,
  },
  { file: 'core/src/executor/agent/x.ts', source: "import { startMiner } from '../../miner/index.js';", refused: true },
  { file: 'core/src/miner/miner.ts', source: "import { ValidatorDirectory } from '../chain/validator-directory.js';", refused: false },
  { file: 'core/src/miner/miner.ts', source: "import { receiptLine } from '../protocol/receipt-pages.js';", refused: false },
  // tests inside core may cross roles
  {
    file: 'core/src/validator/receipts/transfer.test.ts',
    source: "import { createMinerServer } from '../../miner/http/server.js';",
    refused: false,
  },
  // shared modules import no role, contracts import nothing
  {
    file: 'core/src/config/sections/executor.ts',
    source: "import { validateEgressAllowlist } from '../../executor/egress.js';",
    refused: true,
  },
  { file: 'core/src/contracts/job.ts', source: "import { HordeError } from '../errors.js';", refused: true },
  // the testkit uses a role's index, never its internals
  { file: 'core/src/testkit/scoring.ts', source: "import { verify } from '../validator/scoring/receipt-signature.js';", refused: true },
  { file: 'core/src/testkit/job-stages.ts', source: "export { downloadVolume } from '../executor/index.js';", refused: false },
  // no cli <-> devnet cycle
  { file: 'core/src/devnet/summary.ts', source: "import { formatTable } from '../cli/commands/shared.js';", refused: true },
  { file: 'core/src/cli/commands/devnet.ts', source: "import { DEVNET_DEFAULTS } from '../../devnet/options.js';", refused: false },
  // plugins: @horde/core entry points only, never another plugin
  {
    file: 'plugins/job-hash-crack/src/generator.test.ts',
    source: "import { downloadVolume } from '../../../core/src/executor/volumes.js';",
    refused: true,
  },
  { file: 'plugins/job-hash-crack/src/generator.ts', source: "import { startMiner } from '@horde/core/runtime';", refused: true },
  { file: 'executor-managers/vast/src/config.ts', source: "import { isEnvName } from '@horde/executor-manager-ssh';", refused: true },
  { file: 'plugins/dancing/src/index.ts', source: "import { rules } from '../../scoring-classic/src/rules.js';", refused: true },
  { file: 'plugins/dancing/src/index.test.ts', source: "import { registerPluginForTest } from '@horde/core/testkit';", refused: false },
  { file: 'executor-managers/vast/src/config.ts', source: "import { isEnvName } from '@horde/ssh-launcher';", refused: false },
  {
    file: 'templates/test/generated-plugins.test.ts',
    source: "import { runScoringPipeline } from '../../core/src/validator/scoring/engine.js';",
    refused: true,
  },
];

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'horde-boundaries-'));
  await copyFile(join(REPO, '.oxlintrc.json'), join(scratch, '.oxlintrc.json'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Lints one file holding `source` at `file` in the scratch tree; the rule ids oxlint reported. */
async function lint(file: string, source: string): Promise<string> {
  const dir = await mkdtemp(join(scratch, 'case-'));
  await copyFile(join(scratch, '.oxlintrc.json'), join(dir, '.oxlintrc.json'));
  await mkdir(dirname(join(dir, file)), { recursive: true });
  await writeFile(join(dir, file), `${source}\n`);
  try {
    const { stdout } = await run(process.execPath, [OXLINT, '--format', 'unix', file], { cwd: dir });
    return stdout;
  } catch (error) {
    // oxlint exits 1 when it reports an error: its report is still on stdout.
    return (error as { stdout?: string }).stdout ?? String(error);
  }
}

describe('import boundaries (.oxlintrc.json)', () => {
  for (const c of CASES) {
    it(`${c.refused ? 'refuses' : 'allows'} ${c.file}: ${c.source}`, async () => {
      const report = await lint(c.file, c.source);
      if (c.refused) expect(report).toMatch(/no-restricted-imports/);
      else expect(report).not.toMatch(/no-restricted-imports/);
    });
  }
});
