import { basename, dirname, relative, resolve } from 'node:path';
import { helpText, kindsText, parseCliArgs } from './args.mjs';
import { copyTemplate } from './copy.mjs';
import { coreDependencyFor, installFailureHint } from './core-source.mjs';
import { DEFAULT_CORE_VERSION } from './core-version.mjs';
import { CliError } from './errors.mjs';
import { runInstall } from './install.mjs';
import { findKind, kindList, KINDS, templateDir } from './kinds.mjs';
import { deriveNames } from './names.mjs';
import { detectPackageManager } from './package-manager.mjs';
import { createPrompter } from './prompts.mjs';
import { emptyDirectory, inspectTarget } from './target-dir.mjs';
import { coreVersionProblems, descriptionProblems, followsNamingConvention, packageNameProblems, toValidPackageName } from './validate.mjs';

/**
 * @typedef {object} CliIO
 * @property {string} cwd
 * @property {Readonly<Record<string, string | undefined>>} env
 * @property {NodeJS.ReadableStream & { isTTY?: boolean }} stdin
 * @property {NodeJS.WritableStream} stdout
 * @property {NodeJS.WritableStream} stderr
 */

/**
 * @typedef {object} Plan  everything decided before a file is written
 * @property {import('./kinds.mjs').PluginKind} kind
 * @property {string} targetDir  absolute
 * @property {boolean} emptyFirst
 * @property {import('./copy.mjs').TemplateTokens} tokens
 */

/**
 * The whole command. Returns the exit code; user errors are printed, not thrown.
 * @param {readonly string[]} argv
 * @param {CliIO} io
 * @returns {Promise<number>}
 */
export async function main(argv, io) {
  try {
    return await run(argv, io);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    io.stderr.write(`create-horde-plugin: ${error.message}\n`);
    return 1;
  }
}

/**
 * @param {readonly string[]} argv
 * @param {CliIO} io
 */
async function run(argv, io) {
  const options = parseCliArgs(argv);
  if (options.help) {
    io.stdout.write(helpText(DEFAULT_CORE_VERSION));
    return 0;
  }
  if (options.list) {
    io.stdout.write(kindsText());
    return 0;
  }
  const plan = await decide(options, io);

  if (plan.emptyFirst) emptyDirectory(plan.targetDir);
  const files = await copyTemplate(templateDir(plan.kind), plan.targetDir, plan.tokens);
  const shownDir = relative(io.cwd, plan.targetDir) || '.';
  io.stdout.write(`\nCreated ${plan.kind.id} plugin ${plan.tokens.packageName} in ${plan.targetDir}\n`);
  for (const file of files) io.stdout.write(`  ${file}\n`);

  const pm = detectPackageManager(io.env.npm_config_user_agent);
  if (!options.skipInstall) {
    io.stdout.write(`\nInstalling dependencies: ${pm.install.join(' ')}\n`);
    const installed = await runInstall(pm.install, plan.targetDir);
    if (!installed.ok) {
      throw new CliError(
        'INSTALL_FAILED',
        `${pm.install.join(' ')} failed (${installed.reason}). The files are in place. ${installFailureHint(plan.tokens.coreVersion, pm.install.join(' '), shownDir)}`,
      );
    }
  }
  io.stdout.write(nextSteps(plan, shownDir, pm, options.skipInstall));
  return 0;
}

/**
 * Settles kind, directory, names and description from the flags, asking for the rest when
 * interactive. Flags are checked before anything is asked, so a typo fails at once.
 * @param {import('./args.mjs').CliOptions} options
 * @param {CliIO} io
 * @returns {Promise<Plan>}
 */
async function decide(options, io) {
  const interactive = options.interactive ?? Boolean(io.stdin.isTTY);
  if (options.core !== undefined && options.coreVersion !== undefined) {
    throw new CliError('USAGE', 'Give --core <path> or --core-version <spec>, not both.');
  }
  const coreVersion = options.core !== undefined ? coreDependencyFor(options.core, io.cwd) : (options.coreVersion ?? DEFAULT_CORE_VERSION);
  check(options.core !== undefined ? '--core' : '--core-version', coreVersion, coreVersionProblems(coreVersion));
  if (options.description !== undefined) check('--description', options.description, descriptionProblems(options.description));
  if (options.name !== undefined) checkName(options.name, '');
  /** @type {import('./kinds.mjs').PluginKind | undefined} */
  let kind;
  if (options.kind !== undefined) {
    kind = findKind(options.kind);
    if (!kind) throw new CliError('UNKNOWN_KIND', `Unknown plugin kind "${options.kind}". Choose one of: ${kindList()}.`);
  } else if (!interactive) {
    throw new CliError('USAGE', `Missing --kind (not asking: not interactive). Choose one of: ${kindList()}.`);
  }

  const prompter = interactive ? createPrompter(io.stdin, io.stdout) : undefined;
  try {
    if (!kind) {
      const picked = await /** @type {import('./prompts.mjs').Prompter} */ (prompter).choose(
        'Which kind of plugin?',
        KINDS.map((k) => ({ value: k.id, label: `${k.id.padEnd(17)} ${k.summary}` })),
      );
      kind = /** @type {import('./kinds.mjs').PluginKind} */ (findKind(picked));
    }

    const suggestedDir = `horde-plugin-${kind.id}`;
    const targetArg = options.targetDir ?? (prompter ? await prompter.ask('Target directory', suggestedDir) : suggestedDir);
    const targetDir = resolve(io.cwd, targetArg);
    const state = inspectTarget(targetDir);
    if (state === 'not-a-directory') {
      throw new CliError('TARGET_NOT_DIRECTORY', `${targetDir} exists and is not a directory. Choose another target directory.`);
    }
    let emptyFirst = false;
    if (state === 'not-empty') {
      if (options.overwrite) emptyFirst = true;
      else if (prompter) {
        emptyFirst = await prompter.confirm(`${targetDir} is not empty. Remove its files (except .git) and continue?`, false);
        if (!emptyFirst) throw new CliError('CANCELLED', `Cancelled: ${targetDir} is not empty and was left as it is.`);
      } else {
        throw new CliError(
          'TARGET_NOT_EMPTY',
          `Target directory ${targetDir} is not empty. Choose another directory, or pass --overwrite to remove its files (except .git) first.`,
        );
      }
    }

    let packageName = options.name ?? basename(targetDir);
    if (packageNameProblems(packageName).length > 0) {
      const suggestion = toValidPackageName(packageName);
      if (!prompter) checkName(packageName, ` (from the directory name; pass --name ${suggestion}, for example)`);
      else packageName = await askUntilValid(prompter, 'Package name', suggestion, packageNameProblems);
    }

    let description = options.description ?? kind.defaultDescription;
    if (options.description === undefined && prompter) {
      description = await askUntilValid(prompter, 'Description', kind.defaultDescription, descriptionProblems);
    }

    return { kind, targetDir, emptyFirst, tokens: { ...deriveNames(packageName), packageName, description, coreVersion } };
  } finally {
    prompter?.close();
  }
}

/**
 * @param {string} what
 * @param {string} value
 * @param {readonly string[]} problems
 */
function check(what, value, problems) {
  if (problems.length > 0) throw new CliError('INVALID_VALUE', `Invalid ${what} "${value}": ${problems.join('; ')}.`);
}

/**
 * @param {string} name
 * @param {string} hint
 */
function checkName(name, hint) {
  const problems = packageNameProblems(name);
  if (problems.length > 0) throw new CliError('INVALID_NAME', `Invalid package name "${name}"${hint}: ${problems.join('; ')}.`);
}

/**
 * @param {import('./prompts.mjs').Prompter} prompter
 * @param {string} question
 * @param {string} suggestion
 * @param {(value: string) => string[]} problemsOf
 */
async function askUntilValid(prompter, question, suggestion, problemsOf) {
  for (;;) {
    const answer = await prompter.ask(question, suggestion);
    const problems = problemsOf(answer);
    if (problems.length === 0) return answer;
    prompter.say(`  "${answer}" will not do: ${problems.join('; ')}.`);
  }
}

/**
 * Who lists the plugin: the processes that use its contract.
 * @param {import('./kinds.mjs').PluginKind} kind
 */
function audience(kind) {
  return kind.role === 'miner'
    ? 'each miner that should use it'
    : kind.role === 'validator'
      ? 'each validator that should use it'
      : 'each miner and validator (both need it)';
}

/**
 * With @horde/core from a checkout, the devnet command that runs the new plugin on a local subnet
 * (the devnet needs the shipped plugins, which only a checkout has beside core).
 * @param {Plan} plan
 * @returns {string[]}
 */
function devnetStep(plan) {
  const core = plan.tokens.coreVersion;
  if (!core.startsWith('file:') || /\.(tgz|tar\.gz)$/.test(core)) return [];
  const checkout = dirname(core.slice('file:'.length));
  const flag = plan.kind.role === 'miner' ? '--miner-plugin' : plan.kind.role === 'validator' ? '--validator-plugin' : '--plugin';
  return [
    'Try it on a local subnet (chain, validator, miners; jobs, scores and weights), after npm run build:',
    `  cd ${checkout} && npx horde devnet ${flag} ${plan.targetDir}`,
    '',
  ];
}

/**
 * @param {Plan} plan
 * @param {string} shownDir
 * @param {import('./package-manager.mjs').PackageManager} pm
 * @param {boolean} installSkipped
 */
function nextSteps(plan, shownDir, pm, installSkipped) {
  const { packageName } = plan.tokens;
  const cd = /\s/.test(shownDir) ? `cd "${shownDir}"` : `cd ${shownDir}`;
  const steps = [
    ...(shownDir === '.' ? [] : [cd]),
    ...(installSkipped ? [pm.install.join(' ')] : []),
    `${pm.run('test')}            # the plugin's tests, against @horde/core's test kit`,
    `${pm.run('build')}       # compile to dist/`,
  ];
  const lines = [
    '',
    'Next steps:',
    ...steps.map((step) => `  ${step}`),
    '',
    `Then list it in the horde.config.yaml of ${audience(plan.kind)}:`,
    '  plugins:',
    `    - name: ${packageName.startsWith('@') ? `'${packageName}'` : packageName}`,
    '',
    ...devnetStep(plan),
    `See ${shownDir === '.' ? '' : `${shownDir}/`}README.md for its settings and how to publish it.`,
  ];
  if (!followsNamingConvention(packageName)) {
    lines.push(
      `Note: horde plugins are found on npm by the name horde-plugin-<name> (or @scope/horde-plugin-<name>) and the keyword horde-plugin. ` +
        `Consider scaffolding again with --name horde-plugin-${deriveNames(packageName).name}, or renaming "${packageName}" in package.json and src/index.ts before publishing.`,
    );
  }
  return `${lines.join('\n')}\n`;
}
