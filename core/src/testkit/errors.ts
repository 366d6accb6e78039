import { defineError } from '../errors.js';

/** A contract suite's expectation was not met in time (a manager that never started, a program that never connected). */
export class ContractTimeoutError extends defineError('HORDE_TESTKIT_CONTRACT_TIMEOUT') {}

/** A plugin under test cannot be put through a contract suite at all (e.g. a manifest with no executor). */
export class ContractSetupError extends defineError('HORDE_TESTKIT_CONTRACT_SETUP') {}
