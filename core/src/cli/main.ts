import { Command } from 'commander';
import { register as registerChain } from './commands/chain.js';
import { register as registerCollateral } from './commands/collateral.js';
import { register as registerConfig } from './commands/config.js';
import { register as registerDevnet } from './commands/devnet.js';
import { register as registerDoctor } from './commands/doctor.js';
import { register as registerExecutor } from './commands/executor.js';
import { register as registerFacilitator } from './commands/facilitator.js';
import { register as registerMiner } from './commands/miner.js';
import { register as registerPlugins } from './commands/plugins.js';
import { register as registerValidator } from './commands/validator.js';
import { reportError } from './errors.js';
import { coreVersion } from '../version.js';

/**
 * Builds the `horde` program. Each command group lives in `commands/<group>.ts` and exports
 * `register(program)`; command modules import heavy dependencies (polkadot, knex, fastify) inside
 * their actions, so `horde --help` stays fast.
 */
export function createProgram(): Command {
  const program = new Command('horde')
    .description('Run a ComputeHorde-style compute subnet on Bittensor: miners, executors, validators, plugins.')
    .version(coreVersion(), '-V, --version', 'print the version of @horde/core')
    .showHelpAfterError('(run "horde --help" for the commands)');
  registerConfig(program);
  registerPlugins(program);
  registerChain(program);
  registerCollateral(program);
  registerExecutor(program);
  registerMiner(program);
  registerValidator(program);
  registerFacilitator(program);
  registerDevnet(program);
  registerDoctor(program);
  return program;
}

/** Runs the CLI. Expected errors end the process with exit code 1 and one clear message. */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  try {
    await createProgram().parseAsync([...argv]);
  } catch (error) {
    reportError(error);
    process.exitCode = 1;
  }
}
