import { fileURLToPath } from 'node:url';

/**
 * @typedef {object} PluginKind
 * @property {string} id            what `--kind` takes; the template folder is `template-<id>`
 * @property {string} contract      the contract the generated plugin implements
 * @property {string} token         the injection token it provides
 * @property {string} role          which horde process uses it
 * @property {string} summary       one line for `--list` and the prompt
 * @property {string} defaultDescription  package description when none is given
 */

/** @type {readonly PluginKind[]} */
export const KINDS = Object.freeze([
  {
    id: 'executor-manager',
    contract: 'ExecutorManager',
    token: 'EXECUTOR_MANAGER',
    role: 'miner',
    summary: 'how a miner starts, watches and stops its executors (one per miner)',
    defaultDescription: 'A horde executor manager that runs executor agents as local subprocesses',
  },
  {
    id: 'scoring-rule',
    contract: 'ScoringRule',
    token: 'SCORING_RULE',
    role: 'validator',
    summary: "one step of a validator's scoring pipeline",
    defaultDescription: 'A horde scoring rule that pays a bonus to miners whose every job succeeded',
  },
  {
    id: 'job-generator',
    contract: 'JobGenerator',
    token: 'JOB_GENERATOR',
    role: 'validator',
    summary: 'synthetic jobs a validator sends to miners, and the check of their results',
    defaultDescription: 'A horde job generator: a small busybox job whose output the validator checks',
  },
  {
    id: 'hardware-class',
    contract: 'HardwareClass',
    token: 'HARDWARE_CLASS',
    role: 'miner and validator',
    summary: 'an executor class miners declare and validators pay for',
    defaultDescription: 'A horde hardware class: a 4-core, 8 GB CPU executor',
  },
  {
    id: 'dancing-strategy',
    contract: 'DancingStrategy',
    token: 'DANCING_STRATEGY',
    role: 'miner',
    summary: 'how a miner with several hotkeys moves its executors between them (one per miner)',
    defaultDescription: 'A horde dancing strategy that rotates the main hotkey and shares executors evenly',
  },
]);

/**
 * @param {string} id
 * @returns {PluginKind | undefined}
 */
export function findKind(id) {
  return KINDS.find((kind) => kind.id === id);
}

/**
 * The folder the kind's files are copied from (beside `lib/`, so it ships in the npm package).
 * @param {PluginKind} kind
 * @returns {string}
 */
export function templateDir(kind) {
  return fileURLToPath(new URL(`../template-${kind.id}/`, import.meta.url));
}

/** `executor-manager, scoring-rule, …` for error messages. */
export function kindList() {
  return KINDS.map((kind) => kind.id).join(', ');
}
