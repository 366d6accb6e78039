import { Command } from 'commander';
import { register as registerExecutor } from './commands/executor.js';
import { reportError } from './errors.js';

/**
 * `horde executor …` without the rest of the CLI. The executor agent is started once per job, and
 * its start is on the job's critical path (a cold job waits for it): `bin/horde.js` sends the
 * `executor` subcommand here so that the agent loads only its own command, not every command
 * group's module and what they import. Same options, help and error reporting as `horde executor`
 * through `main.ts`, which registers the same command module.
 */
export async function executorMain(argv: readonly string[] = process.argv): Promise<void> {
  const program = new Command('horde').showHelpAfterError('(run "horde executor --help" for the options)');
  registerExecutor(program);
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    reportError(error);
    process.exitCode = 1;
  }
}
