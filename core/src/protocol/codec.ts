import type { z } from 'zod';
import { HordeError } from '../errors.js';
import {
  responseSchema,
  v0AuthenticationRequestSchema,
  v0HeartbeatSchema,
  v0JobCheatedSchema,
  v0JobStatusUpdateSchema,
  v0MachineSpecsUpdateSchema,
  v2JobRequestSchema,
} from './facilitator-messages.js';
import type { FacilitatorToValidatorMessage, ValidatorToFacilitatorMessage } from './facilitator-messages.js';
import { quoteUnsafeIntegers, stringifyWithBigInt } from './lossless-json.js';
import { JOB_PROTOCOL_SCHEMAS } from './messages.js';
import type {
  ExecutorToMinerMessage,
  MinerToExecutorMessage,
  MinerToValidatorMessage,
  V0HordeFailedRequest,
  ValidatorToMinerMessage,
} from './messages.js';

/** ComputeHorde's websocket `max_size` (compute_horde/transport/ws.py). */
export const DEFAULT_MAX_FRAME_BYTES = 50 * 1024 * 1024;

export type ProtocolErrorCode =
  /** The frame is bigger than the configured limit; it was not decoded. */
  | 'FRAME_TOO_LARGE'
  /** Not UTF-8 or not JSON. */
  | 'MALFORMED_JSON'
  /** No `message_type`, or one this direction of the protocol does not carry. */
  | 'UNKNOWN_MESSAGE_TYPE'
  /** Known type, but fields missing or of the wrong type; `issues` says which. */
  | 'INVALID_MESSAGE'
  /** The bare text frame `PING` ComputeHorde peers send as keep-alive: ignore it. */
  | 'PING';

export interface ProtocolIssue {
  /** Dotted path of the field, e.g. `receipts.0.payload.job_uuid`; empty for the whole message. */
  path: string;
  message: string;
}

/** What was wrong with a frame. Returned as a value by the codec, never thrown by it. */
export class ProtocolError extends HordeError {
  declare readonly code: ProtocolErrorCode;
  readonly messageType: string | undefined;
  readonly issues: readonly ProtocolIssue[];

  constructor(code: ProtocolErrorCode, message: string, extra: { messageType?: string; issues?: ProtocolIssue[] } = {}) {
    super(code, message);
    this.messageType = extra.messageType;
    this.issues = extra.issues ?? [];
  }
}

export type ParseResult<M> =
  | {
      ok: true;
      message: M;
      /** Set when a deprecated message was mapped to its current form (log it, then go on). */
      deprecatedAlias?: string;
    }
  | { ok: false; error: ProtocolError };

/** A websocket frame as `ws` hands it over (text or binary). */
export type Frame = string | Uint8Array | ArrayBuffer | readonly Uint8Array[];

export interface CodecOptions {
  /** Frames above this many bytes are refused before decoding. Default 50 MiB. */
  maxFrameBytes?: number;
  /**
   * Check without zod's compiled fast path (it compiles an object schema with `new Function` on
   * its first parse): for a process that parses each message type once, the executor agent, where
   * the compiling never pays off and is on the job's path. The checks are the same.
   */
  jitless?: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function frameByteLength(frame: Frame, maxBytes: number): number {
  if (typeof frame === 'string') {
    // UTF-8 never takes fewer bytes than UTF-16 code units, nor more than three per unit.
    if (frame.length > maxBytes || frame.length * 3 <= maxBytes) return frame.length;
    return Buffer.byteLength(frame, 'utf8');
  }
  if (frame instanceof ArrayBuffer) return frame.byteLength;
  if (frame instanceof Uint8Array) return frame.byteLength;
  return frame.reduce((n, part) => n + part.byteLength, 0);
}

function frameText(frame: Exclude<Frame, string>): string {
  if (frame instanceof ArrayBuffer) return utf8.decode(new Uint8Array(frame));
  if (frame instanceof Uint8Array) return utf8.decode(frame);
  return utf8.decode(Buffer.concat(frame));
}

// zod reports a missing field as "expected string, received undefined"; say "Required" instead.
const parseOptions = {
  error: (issue: { code?: string; input?: unknown }) =>
    issue.code === 'invalid_type' && issue.input === undefined ? 'Required' : undefined,
};
const jitlessParseOptions = { ...parseOptions, jitless: true };

function toIssues(error: z.ZodError): ProtocolIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

type AnySchema = z.ZodType;

/** A mapping from a deprecated message to the message the original maps it to. */
type DeprecatedMapper = (msg: { job_uuid: string }) => V0HordeFailedRequest;

const DEPRECATED: Readonly<Record<string, DeprecatedMapper>> = {
  // Both mapped as ComputeHorde's validator does (miner_client/organic.py).
  V0ExecutorFailedRequest: (msg) => ({
    message_type: 'V0HordeFailedRequest',
    job_uuid: msg.job_uuid,
    reported_by: 'miner',
    reason: 'generic_error',
    message: 'Executor reported legacy V0ExecutorFailedRequest message',
  }),
  V0StreamingJobNotReadyRequest: (msg) => ({
    message_type: 'V0HordeFailedRequest',
    job_uuid: msg.job_uuid,
    reported_by: 'miner',
    reason: 'streaming_failed',
    message: 'Executor reported legacy V0StreamingJobNotReadyRequest message',
  }),
};

interface Direction {
  name: string;
  schemas: ReadonlyMap<string, AnySchema>;
  /** Schema for a frame without `message_type` (only the facilitator's `Response`). */
  untyped?: AnySchema;
  /** Message types whose `signature.timestamp_ns` must be read without precision loss. */
  lossless?: ReadonlySet<string>;
}

function direction(name: string, types: readonly (keyof typeof JOB_PROTOCOL_SCHEMAS)[]): Direction {
  return { name, schemas: new Map(types.map((t) => [t, JOB_PROTOCOL_SCHEMAS[t] as AnySchema])) };
}

const VALIDATOR_TO_MINER = direction('validator→miner', [
  'GenericError',
  'ValidatorAuthForMiner',
  'V0InitialJobRequest',
  'V0JobRequest',
  'V0JobAcceptedReceiptRequest',
  'V0JobFinishedReceiptRequest',
  'V0MainHotkeyMessage',
]);
const MINER_TO_EXECUTOR = direction('miner→executor', ['GenericError', 'V0InitialJobRequest', 'V0JobRequest']);
const EXECUTOR_TO_MINER = direction('executor→miner', [
  'GenericError',
  'V0ExecutorFailedRequest',
  'V0StreamingJobNotReadyRequest',
  'V0ExecutorReadyRequest',
  'V0StreamingJobReadyRequest',
  'V0VolumesReadyRequest',
  'V0ExecutionDoneRequest',
  'V0JobFailedRequest',
  'V0JobFinishedRequest',
  'V0MachineSpecsRequest',
  'V0HordeFailedRequest',
]);
const MINER_TO_VALIDATOR = direction('miner→validator', [
  'GenericError',
  'UnauthorizedError',
  'V0ExecutorManifestRequest',
  'V0MainHotkeyMessage',
  'V0DeclineJobRequest',
  'V0AcceptJobRequest',
  'V0ExecutorFailedRequest',
  'V0StreamingJobNotReadyRequest',
  'V0ExecutorReadyRequest',
  'V0StreamingJobReadyRequest',
  'V0JobFailedRequest',
  'V0VolumesReadyRequest',
  'V0ExecutionDoneRequest',
  'V0JobFinishedRequest',
  'V0MachineSpecsRequest',
  'V0HordeFailedRequest',
]);
const FACILITATOR_TO_VALIDATOR: Direction = {
  name: 'facilitator→validator',
  schemas: new Map<string, AnySchema>([
    ['V2JobRequest', v2JobRequestSchema],
    ['V0JobCheated', v0JobCheatedSchema],
  ]),
  untyped: responseSchema,
  lossless: new Set(['V2JobRequest', 'V0JobCheated']),
};
const VALIDATOR_TO_FACILITATOR: Direction = {
  name: 'validator→facilitator',
  schemas: new Map<string, AnySchema>([
    ['V0AuthenticationRequest', v0AuthenticationRequestSchema],
    ['V0Heartbeat', v0HeartbeatSchema],
    ['V0JobStatusUpdate', v0JobStatusUpdateSchema],
    ['V0MachineSpecsUpdate', v0MachineSpecsUpdateSchema],
  ]),
};

const ALL_TYPES = new Set<string>([
  ...Object.keys(JOB_PROTOCOL_SCHEMAS),
  ...FACILITATOR_TO_VALIDATOR.schemas.keys(),
  ...VALIDATOR_TO_FACILITATOR.schemas.keys(),
]);

function fail<M>(code: ProtocolErrorCode, message: string, extra?: { messageType?: string; issues?: ProtocolIssue[] }): ParseResult<M> {
  return { ok: false, error: new ProtocolError(code, message, extra) };
}

function needsLosslessReparse(value: Record<string, unknown>): boolean {
  const signature = value.signature;
  if (typeof signature !== 'object' || signature === null) return false;
  const ts = (signature as Record<string, unknown>).timestamp_ns;
  return typeof ts === 'number' && !Number.isSafeInteger(ts);
}

function parseFrame<M>(dir: Direction, frame: Frame, opts: CodecOptions): ParseResult<M> {
  const maxBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const size = frameByteLength(frame, maxBytes);
  if (size > maxBytes) return fail('FRAME_TOO_LARGE', `frame of ${size} bytes exceeds the limit of ${maxBytes} bytes`);

  let text: string;
  try {
    text = typeof frame === 'string' ? frame : frameText(frame);
  } catch {
    return fail('MALFORMED_JSON', 'frame is not valid UTF-8');
  }
  if (text === 'PING') return fail('PING', 'keep-alive PING frame');

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return fail('MALFORMED_JSON', `frame is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(
      'INVALID_MESSAGE',
      `expected a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`,
    );
  }
  let obj = value as Record<string, unknown>;
  const messageType = obj.message_type;

  let schema: AnySchema | undefined;
  if (messageType === undefined && dir.untyped) schema = dir.untyped;
  else if (typeof messageType !== 'string') {
    return fail('UNKNOWN_MESSAGE_TYPE', messageType === undefined ? 'message_type is missing' : 'message_type is not a string');
  } else {
    schema = dir.schemas.get(messageType);
    if (!schema) {
      const why = ALL_TYPES.has(messageType) ? `is not a ${dir.name} message` : 'is not a known message type';
      return fail('UNKNOWN_MESSAGE_TYPE', `${messageType} ${why}`, { messageType });
    }
    if (dir.lossless?.has(messageType) && needsLosslessReparse(obj)) {
      obj = JSON.parse(quoteUnsafeIntegers(text)) as Record<string, unknown>;
    }
  }

  const parsed = schema.safeParse(obj, opts.jitless ? jitlessParseOptions : parseOptions);
  const typeName = typeof messageType === 'string' ? messageType : 'Response';
  if (!parsed.success) {
    const issues = toIssues(parsed.error);
    const summary = issues
      .slice(0, 5)
      .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
      .join('; ');
    return fail('INVALID_MESSAGE', `invalid ${typeName}: ${summary}`, { messageType: typeName, issues });
  }
  const mapper = DEPRECATED[typeName];
  if (mapper) return { ok: true, message: mapper(parsed.data as { job_uuid: string }) as M, deprecatedAlias: typeName };
  return { ok: true, message: parsed.data as M };
}

/** What a miner receives from a validator. */
export function parseValidatorToMiner(frame: Frame, opts: CodecOptions = {}): ParseResult<ValidatorToMinerMessage> {
  return parseFrame(VALIDATOR_TO_MINER, frame, opts);
}

/** What a validator receives from a miner (deprecated executor failures arrive as V0HordeFailedRequest). */
export function parseMinerToValidator(frame: Frame, opts: CodecOptions = {}): ParseResult<MinerToValidatorMessage> {
  return parseFrame(MINER_TO_VALIDATOR, frame, opts);
}

/** What an executor receives from its miner. */
export function parseMinerToExecutor(frame: Frame, opts: CodecOptions = {}): ParseResult<MinerToExecutorMessage> {
  return parseFrame(MINER_TO_EXECUTOR, frame, opts);
}

/** What a miner receives from an executor (deprecated failures arrive as V0HordeFailedRequest). */
export function parseExecutorToMiner(frame: Frame, opts: CodecOptions = {}): ParseResult<ExecutorToMinerMessage> {
  return parseFrame(EXECUTOR_TO_MINER, frame, opts);
}

/** What a validator receives from the facilitator (`Response` has no message_type). */
export function parseFacilitatorToValidator(frame: Frame, opts: CodecOptions = {}): ParseResult<FacilitatorToValidatorMessage> {
  return parseFrame(FACILITATOR_TO_VALIDATOR, frame, opts);
}

/** What the facilitator receives from a validator. */
export function parseValidatorToFacilitator(frame: Frame, opts: CodecOptions = {}): ParseResult<ValidatorToFacilitatorMessage> {
  return parseFrame(VALIDATOR_TO_FACILITATOR, frame, opts);
}

export type AnyProtocolMessage =
  | ValidatorToMinerMessage
  | MinerToValidatorMessage
  | MinerToExecutorMessage
  | ExecutorToMinerMessage
  | FacilitatorToValidatorMessage
  | ValidatorToFacilitatorMessage;

/**
 * The JSON text of a message. Compact like pydantic's `model_dump_json()`; `undefined` fields are
 * left out (the receiver's defaults apply) and bigint `timestamp_ns` keeps every digit.
 */
export function encodeMessage(message: AnyProtocolMessage): string {
  return stringifyWithBigInt(message);
}
