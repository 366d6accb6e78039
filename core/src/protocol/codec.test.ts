import { describe, expect, it } from 'vitest';
import { SAMPLE_MESSAGES, type Direction } from './__fixtures__/sample-messages.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  encodeMessage,
  parseExecutorToMiner,
  parseFacilitatorToValidator,
  parseMinerToExecutor,
  parseMinerToValidator,
  parseValidatorToFacilitator,
  parseValidatorToMiner,
  type AnyProtocolMessage,
  type Frame,
  type ParseResult,
} from './codec.js';

const PARSERS: Record<Direction, (frame: Frame, opts?: { maxFrameBytes?: number }) => ParseResult<unknown>> = {
  validatorToMiner: parseValidatorToMiner,
  minerToValidator: parseMinerToValidator,
  minerToExecutor: parseMinerToExecutor,
  executorToMiner: parseExecutorToMiner,
  facilitatorToValidator: parseFacilitatorToValidator,
  validatorToFacilitator: parseValidatorToFacilitator,
};

const errorOf = (r: ParseResult<unknown>) => {
  if (r.ok)
    throw new Error(`expected an error, got ${JSON.stringify(r.message, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
  return r.error;
};
const messageOf = (r: ParseResult<unknown>) => {
  if (!r.ok) throw r.error;
  return r.message as Record<string, unknown>;
};

describe('round trip', () => {
  it('covers every message of the protocol tables', () => {
    const names = new Set(SAMPLE_MESSAGES.map((s) => s.name));
    for (const name of [
      'ValidatorAuthForMiner',
      'UnauthorizedError',
      'GenericError',
      'V0ExecutorManifestRequest',
      'V0MainHotkeyMessage',
      'V0InitialJobRequest',
      'V0AcceptJobRequest',
      'V0DeclineJobRequest',
      'V0ExecutorReadyRequest',
      'V0JobRequest',
      'V0VolumesReadyRequest',
      'V0StreamingJobReadyRequest',
      'V0ExecutionDoneRequest',
      'V0MachineSpecsRequest',
      'V0JobFinishedRequest',
      'V0JobFailedRequest',
      'V0HordeFailedRequest',
      'V0JobAcceptedReceiptRequest',
      'V0JobFinishedReceiptRequest',
      'V0AuthenticationRequest',
      'V2JobRequest',
      'V0JobCheated',
      'V0JobStatusUpdate',
      'V0Heartbeat',
      'V0MachineSpecsUpdate',
      'Response',
    ]) {
      expect(names, name).toContain(name);
    }
  });

  it.each(SAMPLE_MESSAGES.map((s) => [s.name, s] as const))('%s survives encode → parse unchanged', (_name, sample) => {
    const parse = PARSERS[sample.direction];
    const frame = encodeMessage(sample.message as unknown as AnyProtocolMessage);
    const parsed = messageOf(parse(frame));
    expect(parsed).toEqual(sample.message);
    // Binary frames (what ws hands over for a Buffer) parse the same.
    expect(messageOf(parse(Buffer.from(frame)))).toEqual(sample.message);
    // Encoding what was parsed gives a frame that parses to the same message again.
    expect(messageOf(parse(encodeMessage(parsed as unknown as AnyProtocolMessage)))).toEqual(parsed);
  });

  it('the miner relays job messages to the executor and executor messages to the validator', () => {
    for (const name of ['V0InitialJobRequest', 'V0JobRequest']) {
      const sample = SAMPLE_MESSAGES.find((s) => s.name === name)!;
      expect(messageOf(parseMinerToExecutor(encodeMessage(sample.message as unknown as AnyProtocolMessage)))).toEqual(sample.message);
    }
    for (const sample of SAMPLE_MESSAGES.filter((s) => s.direction === 'executorToMiner')) {
      expect(parseMinerToValidator(JSON.stringify(sample.message)).ok, sample.name).toBe(true);
    }
  });

  it('jitless (the executor agent) parses, defaults and refuses exactly as the compiled path does', () => {
    for (const name of ['V0InitialJobRequest', 'V0JobRequest']) {
      const frame = encodeMessage(SAMPLE_MESSAGES.find((s) => s.name === name)!.message as unknown as AnyProtocolMessage);
      expect(parseMinerToExecutor(frame, { jitless: true })).toEqual(parseMinerToExecutor(frame));
      const { message_type: _type, ...rest } = JSON.parse(frame) as Record<string, unknown>;
      for (const bad of [{ ...rest, message_type: name, job_uuid: 7 }, { message_type: name }]) {
        const compiled = errorOf(parseMinerToExecutor(JSON.stringify(bad)));
        const interpreted = errorOf(parseMinerToExecutor(JSON.stringify(bad), { jitless: true }));
        expect([interpreted.message, interpreted.issues]).toEqual([compiled.message, compiled.issues]);
      }
    }
  });

  it('fills in the original defaults', () => {
    const decline = messageOf(parseMinerToValidator('{"message_type":"V0DeclineJobRequest","job_uuid":"j"}'));
    expect(decline).toEqual({ message_type: 'V0DeclineJobRequest', job_uuid: 'j', message: '', reason: 'unknown', receipts: [] });
    const job = messageOf(
      parseValidatorToMiner(
        '{"message_type":"V0JobRequest","job_uuid":"j","executor_class":"always_on.test","docker_image":"x","docker_run_options_preset":"none","docker_run_cmd":[]}',
      ),
    );
    expect(job.env).toEqual({});
    const initial = SAMPLE_MESSAGES.find((s) => s.name === 'V0InitialJobRequest')!.message;
    const { receipt_type: _omitted, ...payloadWithoutType } = initial.job_started_receipt_payload as Record<string, unknown>;
    const parsed = messageOf(parseValidatorToMiner(JSON.stringify({ ...initial, job_started_receipt_payload: payloadWithoutType })));
    expect((parsed.job_started_receipt_payload as Record<string, unknown>).receipt_type).toBe('JobStartedReceipt');
  });

  it('drops unknown fields as pydantic does, except where the original forbids them', () => {
    const accepted = messageOf(parseMinerToValidator('{"message_type":"V0AcceptJobRequest","job_uuid":"j","future_field":1}'));
    expect(accepted).toEqual({ message_type: 'V0AcceptJobRequest', job_uuid: 'j' });
    const heartbeat = errorOf(parseValidatorToFacilitator('{"message_type":"V0Heartbeat","extra":1}'));
    expect(heartbeat.code).toBe('INVALID_MESSAGE');
  });
});

describe('enums fall back to unknown', () => {
  it('parses values a newer peer invents as unknown', () => {
    const failed = messageOf(
      parseExecutorToMiner('{"message_type":"V0JobFailedRequest","job_uuid":"j","reason":"gpu_melted","stage":"warp_drive"}'),
    );
    expect(failed).toMatchObject({ reason: 'unknown', stage: 'unknown', message: '' });
    const horde = messageOf(
      parseMinerToValidator(
        '{"message_type":"V0HordeFailedRequest","job_uuid":"j","reported_by":"oracle","message":"m","reason":"solar_flare"}',
      ),
    );
    expect(horde).toMatchObject({ reported_by: 'unknown', reason: 'unknown' });
    const status = messageOf(parseValidatorToFacilitator('{"message_type":"V0JobStatusUpdate","uuid":"u","status":"teleported"}'));
    expect(status.status).toBe('unknown');
  });

  it('still requires a required enum and a string', () => {
    const missing = errorOf(
      parseMinerToValidator('{"message_type":"V0HordeFailedRequest","job_uuid":"j","reported_by":"miner","message":"m"}'),
    );
    expect(missing.issues).toContainEqual({ path: 'reason', message: 'Required' });
    const wrongType = errorOf(
      parseMinerToValidator('{"message_type":"V0HordeFailedRequest","job_uuid":"j","reported_by":"miner","message":"m","reason":5}'),
    );
    expect(wrongType.issues[0]?.path).toBe('reason');
  });
});

describe('deprecated aliases', () => {
  it('V0JobFailedRequest accepts error_detail / error_type, preferring the current names', () => {
    const old = messageOf(
      parseExecutorToMiner('{"message_type":"V0JobFailedRequest","job_uuid":"j","error_detail":"boom","error_type":"timeout"}'),
    );
    expect(old).toMatchObject({ message: 'boom', reason: 'timeout' });
    expect(old).not.toHaveProperty('error_detail');
    const both = messageOf(
      parseExecutorToMiner('{"message_type":"V0JobFailedRequest","job_uuid":"j","message":"new","error_detail":"old"}'),
    );
    expect(both.message).toBe('new');
  });

  it('maps V0ExecutorFailedRequest and V0StreamingJobNotReadyRequest to V0HordeFailedRequest', () => {
    const failed = parseExecutorToMiner('{"message_type":"V0ExecutorFailedRequest","job_uuid":"j"}');
    expect(failed).toMatchObject({
      ok: true,
      deprecatedAlias: 'V0ExecutorFailedRequest',
      message: { message_type: 'V0HordeFailedRequest', job_uuid: 'j', reported_by: 'miner', reason: 'generic_error' },
    });
    const streaming = parseMinerToValidator('{"message_type":"V0StreamingJobNotReadyRequest","job_uuid":"j","executor_token":"t"}');
    expect(streaming).toMatchObject({
      ok: true,
      deprecatedAlias: 'V0StreamingJobNotReadyRequest',
      message: { reason: 'streaming_failed' },
    });
  });
});

describe('bad input gives a typed error, never an exception', () => {
  it('malformed JSON and bad UTF-8', () => {
    expect(errorOf(parseValidatorToMiner('{"message_type": "V0JobRequest",')).code).toBe('MALFORMED_JSON');
    expect(errorOf(parseValidatorToMiner(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).code).toBe('MALFORMED_JSON');
    expect(errorOf(parseValidatorToMiner('')).code).toBe('MALFORMED_JSON');
  });

  it('not an object', () => {
    for (const frame of ['[]', '42', 'null', '"V0JobRequest"']) {
      expect(errorOf(parseValidatorToMiner(frame)).code, frame).toBe('INVALID_MESSAGE');
    }
  });

  it('unknown, missing or misdirected message_type', () => {
    const unknown = errorOf(parseValidatorToMiner('{"message_type":"V9TeleportRequest"}'));
    expect(unknown).toMatchObject({ code: 'UNKNOWN_MESSAGE_TYPE', messageType: 'V9TeleportRequest' });
    expect(unknown.message).toMatch(/not a known message type/);
    expect(errorOf(parseValidatorToMiner('{"job_uuid":"j"}')).message).toMatch(/message_type is missing/);
    expect(errorOf(parseValidatorToMiner('{"message_type":7}')).code).toBe('UNKNOWN_MESSAGE_TYPE');
    const misdirected = errorOf(parseMinerToValidator('{"message_type":"V0JobRequest"}'));
    expect(misdirected).toMatchObject({ code: 'UNKNOWN_MESSAGE_TYPE' });
    expect(misdirected.message).toBe('V0JobRequest is not a miner→validator message');
  });

  it('missing fields and wrong types name the field', () => {
    const missing = errorOf(parseMinerToValidator('{"message_type":"V0AcceptJobRequest"}'));
    expect(missing).toMatchObject({ code: 'INVALID_MESSAGE', messageType: 'V0AcceptJobRequest' });
    expect(missing.message).toBe('invalid V0AcceptJobRequest: job_uuid: Required');
    const wrong = errorOf(
      parseValidatorToMiner(
        '{"message_type":"ValidatorAuthForMiner","validator_hotkey":"a","miner_hotkey":"b","timestamp":"soon","signature":"0x"}',
      ),
    );
    expect(wrong.issues).toEqual([{ path: 'timestamp', message: 'Invalid input: expected number, received string' }]);
    const nested = SAMPLE_MESSAGES.find((s) => s.name === 'V0DeclineJobRequest')!.message;
    const receipts = nested.receipts as { payload: Record<string, unknown> }[];
    const bad = { ...nested, receipts: [{ ...receipts[0], payload: { ...receipts[0]!.payload, timestamp: 'yesterday' } }] };
    expect(errorOf(parseMinerToValidator(JSON.stringify(bad))).issues).toEqual([
      { path: 'receipts.0.payload.timestamp', message: 'Invalid datetime (expected ISO 8601)' },
    ]);
    const volume = errorOf(
      parseValidatorToMiner(
        JSON.stringify({ ...SAMPLE_MESSAGES.find((s) => s.name === 'V0JobRequest')!.message, volume: { volume_type: 'torrent' } }),
      ),
    );
    expect(volume.issues[0]?.path).toBe('volume.volume_type');
  });

  it('oversized frames are refused before decoding', () => {
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(50 * 1024 * 1024);
    const big = JSON.stringify({ message_type: 'GenericError', details: 'x'.repeat(1000) });
    expect(errorOf(parseMinerToValidator(big, { maxFrameBytes: 500 })).code).toBe('FRAME_TOO_LARGE');
    expect(errorOf(parseMinerToValidator(Buffer.from(big), { maxFrameBytes: 500 })).code).toBe('FRAME_TOO_LARGE');
    expect(errorOf(parseMinerToValidator([Buffer.from(big.slice(0, 600)), Buffer.from(big.slice(600))], { maxFrameBytes: 500 })).code).toBe(
      'FRAME_TOO_LARGE',
    );
    // Multi-byte characters count as bytes, not characters: 400 × 'ż' is 800 bytes.
    const wide = JSON.stringify({ message_type: 'GenericError', details: 'ż'.repeat(400) });
    expect(errorOf(parseMinerToValidator(wide, { maxFrameBytes: 500 })).code).toBe('FRAME_TOO_LARGE');
    expect(parseMinerToValidator(big, { maxFrameBytes: 2000 }).ok).toBe(true);
    const overDefault = `{"message_type":"GenericError","details":"${'x'.repeat(DEFAULT_MAX_FRAME_BYTES)}"}`;
    expect(errorOf(parseMinerToValidator(overDefault)).code).toBe('FRAME_TOO_LARGE');
  });

  it('the PING keep-alive is recognised', () => {
    expect(errorOf(parseMinerToValidator('PING')).code).toBe('PING');
    expect(errorOf(parseMinerToValidator(Buffer.from('PING'))).code).toBe('PING');
  });

  it('never throws, whatever the bytes', () => {
    const frames: Frame[] = [];
    const seed = SAMPLE_MESSAGES.map((s) => encodeMessage(s.message as unknown as AnyProtocolMessage));
    let state = 12345;
    const rand = (n: number) => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % n;
    };
    for (const text of seed) {
      for (let i = 0; i < 40; i++) {
        const bytes = Buffer.from(text);
        const mutated = Buffer.from(bytes);
        for (let k = 0; k < 1 + rand(4); k++) mutated[rand(mutated.length)] = rand(256);
        frames.push(mutated, mutated.toString('latin1'), text.slice(0, rand(text.length)));
      }
    }
    for (const frame of frames) {
      for (const parse of Object.values(PARSERS)) {
        const result = parse(frame);
        expect(typeof result.ok).toBe('boolean');
      }
    }
  });
});

describe('facilitator frames', () => {
  it('keeps every digit of a 19-digit timestamp_ns, even as a raw JSON number', () => {
    const frame =
      '{"type":"job.cheated","message_type":"V0JobCheated","job_uuid":"j","trusted_job_uuid":"t","details":{"n":12345678901234567890},' +
      '"signature":{"signature_type":"bittensor","signatory":"s","timestamp_ns":1729622861880448857,"signature":"AAAA","signature_scope":"FullRequest"}}';
    const msg = messageOf(parseFacilitatorToValidator(frame));
    expect((msg.signature as { timestamp_ns: bigint }).timestamp_ns).toBe(1729622861880448857n);
  });

  it('Response has no message_type', () => {
    expect(messageOf(parseFacilitatorToValidator('{"status":"success"}'))).toEqual({ status: 'success', errors: [] });
    expect(errorOf(parseFacilitatorToValidator('{"status":"maybe"}')).code).toBe('INVALID_MESSAGE');
  });
});
