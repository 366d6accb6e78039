import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ValidatorEvents, ValidatorHandle } from '../validator/service.js';
import { forwardValidatorEvents, parseValidatorEvent, VALIDATOR_EVENT_KIND } from './validator-events.js';

/** The part of a validator handle the forwarder uses: its events and its hotkey. */
function handle(): ValidatorHandle {
  return Object.assign(new EventEmitter<ValidatorEvents>(), { hotkey: '5Validator' }) as unknown as ValidatorHandle;
}

describe('validator progress over IPC', () => {
  it('forwards each event as a small message the devnet parses back', () => {
    const validator = handle();
    const sent: unknown[] = [];
    const stop = forwardValidatorEvents(validator, (message) => sent.push(message));
    validator.emit('batch-started', { cycle: 3, miners: 2, jobs: 4 });
    validator.emit('job-finished', {
      jobUuid: 'j1',
      cycle: 3,
      minerHotkey: '5Miner',
      executorClass: 'always_on.test',
      kind: 'synthetic',
      generator: 'hash-crack',
      description: '',
      status: 'completed',
      accepted: true,
      correct: false,
      inTime: true,
      timeTookMs: 10,
      details: 'wrong answer',
      rejectionReason: null,
      rejectionReceipts: [],
      checkedAt: null,
      failure: null,
    });
    validator.emit('batch-finished', {
      cycle: 3,
      miners: 2,
      jobs: 4,
      outcomes: { completed: 4 },
      durationMs: 2100,
      longestJobMs: 500,
      overheadMs: 900,
    });
    validator.emit('cycle-scored', { cycle: 3, result: { steps: [], weights: [], vector: [] } });
    validator.emit('weights-set', { cycle: 3, result: { status: 'committed', block: 300, revealBlock: 362 } });
    validator.emit('weights-set', { cycle: 4, result: null });
    validator.emit('weights-revealed', { commitBlock: 300, status: 'revealed', block: 365 });
    validator.emit('failure', { stage: 'batch', error: new Error('no miners') });
    stop();
    validator.emit('cycle-scored', { cycle: 9, result: { steps: [], weights: [], vector: [] } });

    const events = sent.map((message) => {
      const parsed = parseValidatorEvent(message);
      if (!parsed.ok) throw new Error(parsed.error);
      return parsed.event;
    });
    expect(events).toEqual([
      { type: 'ready', hotkey: '5Validator' },
      { type: 'batch-started', cycle: 3, miners: 2, jobs: 4 },
      {
        type: 'job-finished',
        cycle: 3,
        jobUuid: 'j1',
        minerHotkey: '5Miner',
        executorClass: 'always_on.test',
        status: 'completed',
        correct: false,
      },
      { type: 'batch-finished', cycle: 3, miners: 2, jobs: 4, durationMs: 2100 },
      { type: 'cycle-scored', cycle: 3 },
      { type: 'weights-set', cycle: 3, status: 'committed', block: 300, revealBlock: 362 },
      { type: 'weights-set', cycle: 4, status: 'none', block: null, revealBlock: null },
      { type: 'weights-revealed', commitBlock: 300, block: 365 },
      { type: 'failure', stage: 'batch', message: 'no miners' },
    ]);
  });

  it('rejects messages that are not well-formed validator events', () => {
    expect(parseValidatorEvent('hello').ok).toBe(false);
    expect(parseValidatorEvent({ kind: 'other', event: { type: 'ready', hotkey: 'x' } }).ok).toBe(false);
    const bad = parseValidatorEvent({ kind: VALIDATOR_EVENT_KIND, event: { type: 'cycle-scored', cycle: -1 } });
    expect(bad.ok).toBe(false);
    expect(parseValidatorEvent({ kind: VALIDATOR_EVENT_KIND, event: { type: 'explode' } }).ok).toBe(false);
  });

  it('keeps going when the parent is gone (send throws)', () => {
    const validator = handle();
    forwardValidatorEvents(validator, () => {
      throw new Error('channel closed');
    });
    expect(() => validator.emit('cycle-scored', { cycle: 1, result: { steps: [], weights: [], vector: [] } })).not.toThrow();
  });
});
