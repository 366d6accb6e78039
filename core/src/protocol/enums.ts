import { z } from 'zod';

/**
 * ComputeHorde's protocol enums (compute_horde/protocol_consts.py). Each is a Python StrEnum whose
 * `_missing_` returns UNKNOWN, so a value a newer peer invents parses as `'unknown'` instead of
 * failing the whole message; the schemas below do the same. A non-string still fails.
 */
function enumWithUnknown<const T extends readonly [string, ...string[]]>(values: T) {
  const known = new Set<string>(values);
  return z.string().transform((v): T[number] | 'unknown' => (known.has(v) ? (v as T[number]) : 'unknown'));
}

export const JOB_STATUSES = [
  'sent',
  'received',
  'accepted',
  'executor_ready',
  'streaming_ready',
  'volumes_ready',
  'execution_done',
  'completed',
  'rejected',
  'failed',
  'horde_failed',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number] | 'unknown';
export const jobStatusSchema = enumWithUnknown(JOB_STATUSES);
/** End states: a job in one of these gets no further updates. */
export const JOB_END_STATUSES: ReadonlySet<JobStatus> = new Set(['completed', 'rejected', 'failed', 'horde_failed']);

export const JOB_STAGES = ['executor_startup', 'volume_download', 'streaming_startup', 'execution', 'result_upload'] as const;
export type JobStage = (typeof JOB_STAGES)[number] | 'unknown';
export const jobStageSchema = enumWithUnknown(JOB_STAGES);

/** Why a miner (or the validator's router) refused a job. */
export const JOB_REJECTION_REASONS = ['busy', 'invalid_signature', 'no_miner_for_job', 'validator_blacklisted'] as const;
export type JobRejectionReason = (typeof JOB_REJECTION_REASONS)[number] | 'unknown';
export const jobRejectionReasonSchema = enumWithUnknown(JOB_REJECTION_REASONS);

/** The job's own fault (the consumer's): bad exit code, its download/upload failed, it ran too long. */
export const JOB_FAILURE_REASONS = ['timeout', 'nonzero_return_code', 'download_failed', 'upload_failed'] as const;
export type JobFailureReason = (typeof JOB_FAILURE_REASONS)[number] | 'unknown';
export const jobFailureReasonSchema = enumWithUnknown(JOB_FAILURE_REASONS);

/** The network's fault (miner, executor or validator), not the job's. */
export const HORDE_FAILURE_REASONS = [
  'generic_error',
  'unhandled_exception',
  'unhandled_timeout',
  'streaming_failed',
  'miner_connection_failed',
  'initial_response_timed_out',
  'executor_readiness_response_timed_out',
  'volumes_timed_out',
  'streaming_job_ready_timed_out',
  'execution_timed_out',
  'final_response_timed_out',
  'executor_spinup_failed',
  'executor_disconnected',
  'security_check_failed',
] as const;
export type HordeFailureReason = (typeof HORDE_FAILURE_REASONS)[number] | 'unknown';
export const hordeFailureReasonSchema = enumWithUnknown(HORDE_FAILURE_REASONS);

export const JOB_PARTICIPANT_TYPES = ['sdk', 'facilitator', 'validator', 'miner', 'executor'] as const;
export type JobParticipantType = (typeof JOB_PARTICIPANT_TYPES)[number] | 'unknown';
export const jobParticipantTypeSchema = enumWithUnknown(JOB_PARTICIPANT_TYPES);

/** `UnauthorizedError.code` — a plain Enum in the original: no unknown fallback. */
export const UNAUTHORIZED_CODES = ['TOKEN_TOO_OLD', 'UNKNOWN_VALIDATOR', 'VALIDATOR_INACTIVE'] as const;
export type UnauthorizedCode = (typeof UNAUTHORIZED_CODES)[number];
export const unauthorizedCodeSchema = z.enum(UNAUTHORIZED_CODES);
