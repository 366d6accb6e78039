import type { HardwareClass, JobSpec } from '../../contracts/index.js';
import type { JobStatus } from '../../protocol/enums.js';
import type { JobStatusMetadata, V2JobRequest } from '../../protocol/facilitator-messages.js';
import { ValidatorJobDriver, type JobRecord, type ValidatorJobContext, type ValidatorJobEnd } from '../job-driver.js';
import type { JobMessage } from '../miner-client.js';
import { definedFields } from '../../object/defined-fields.js';

/** A status change for the facilitator (`V0JobStatusUpdate` without the uuid). */
export interface StatusUpdate {
  readonly status: JobStatus;
  readonly metadata: JobStatusMetadata | null;
}

/** The job a `V2JobRequest` asks for, in the shape the job driver runs. */
export function organicJobSpec(request: V2JobRequest, hardwareClass: HardwareClass | undefined, allowedLeewaySeconds: number): JobSpec {
  return {
    executorClass: request.executor_class,
    image: request.docker_image,
    command: request.args,
    env: request.env,
    dockerRunOptionsPreset: hardwareClass?.dockerPreset ?? 'none',
    // As ComputeHorde's organic flow: the volume goes with the initial request, so the executor
    // can fetch it while it starts.
    ...(request.volume ? { volume: request.volume, volumeInInitialRequest: true } : {}),
    ...definedFields({ outputUpload: request.output_upload ?? undefined }),
    ...(request.artifacts_dir ? { artifactsDir: request.artifacts_dir } : {}),
    ...(request.streaming_details ? { streamingPublicKey: request.streaming_details.public_key } : {}),
    timing: {
      allowedLeewaySeconds,
      downloadTimeLimitSeconds: request.download_time_limit,
      executionTimeLimitSeconds: request.execution_time_limit,
      uploadTimeLimitSeconds: request.upload_time_limit,
      streamingStartTimeLimitSeconds: request.streaming_start_time_limit,
    },
  };
}

/** Executor seconds the job is charged (ComputeHorde: download + execution + upload limits). */
export function executorSeconds(request: V2JobRequest): number {
  return request.download_time_limit + request.execution_time_limit + request.upload_time_limit;
}

/** The driver's context for an organic job: what the caller says, the rest is the organic rule. */
export interface OrganicJobContext extends Pick<
  ValidatorJobContext,
  'connection' | 'validator' | 'clock' | 'logger' | 'hardwareClass' | 'cycle' | 'limits'
> {
  /** Called for each progress status (accepted … execution_done) as the miner reports it. */
  readonly onProgress: (update: StatusUpdate) => void;
  /** The executor's machine specs, when it sends them. */
  readonly onMachineSpecs?: (specs: Record<string, unknown>) => void;
}

/** The driver's end (record, and the result when it completed) with what the facilitator is told. */
export interface OrganicJobEnd extends ValidatorJobEnd {
  /** The terminal status for the facilitator, with ComputeHorde's metadata shapes. */
  readonly final: StatusUpdate;
}

const PROGRESS: Partial<Record<JobMessage['message_type'], JobStatus>> = {
  V0AcceptJobRequest: 'accepted',
  V0ExecutorReadyRequest: 'executor_ready',
  V0VolumesReadyRequest: 'volumes_ready',
  V0StreamingJobReadyRequest: 'streaming_ready',
  V0ExecutionDoneRequest: 'execution_done',
};

/**
 * Runs one organic job on a connected miner with the validator's job driver (`ValidatorJobDriver`): a signed
 * organic job-started receipt whose ttl is the reservation window, the accepted and finished
 * receipts, every wait bounded. Progress messages are passed on as they come; the end is mapped
 * to the facilitator's terminal status and metadata (miner_response / job_failure_details /
 * horde_failure_details / job_rejection_details). Organic results are not verified here: the
 * client judges them (and may cross-check on the trusted miner).
 */
export async function runOrganicJob(request: V2JobRequest, spec: JobSpec, ctx: OrganicJobContext): Promise<OrganicJobEnd> {
  let failure: Extract<JobMessage, { message_type: 'V0JobFailedRequest' }> | null = null;
  let hordeFailure: Extract<JobMessage, { message_type: 'V0HordeFailedRequest' }> | null = null;
  let decline: Extract<JobMessage, { message_type: 'V0DeclineJobRequest' }> | null = null;
  let finished: Extract<JobMessage, { message_type: 'V0JobFinishedRequest' }> | null = null;
  const reached = new Set<JobStatus>();

  const driver = new ValidatorJobDriver(
    request.uuid,
    {
      spec,
      description: `organic job${request.job_namespace ? ` (${request.job_namespace})` : ''}`,
    },
    {
      connection: ctx.connection,
      validator: ctx.validator,
      clock: ctx.clock,
      logger: ctx.logger,
      hardwareClass: ctx.hardwareClass,
      cycle: ctx.cycle,
      generator: null,
      kind: 'organic',
      limits: ctx.limits,
      startedReceiptTtlSeconds: Math.max(1, Math.round(ctx.limits.reservationMs / 1000)),
      receiptScore: executorSeconds(request),
      unverifiedDetails: "organic job: the result is the client's to judge",
      onMessage: (message) => {
        switch (message.message_type) {
          case 'V0JobFailedRequest':
            failure = message;
            return;
          case 'V0HordeFailedRequest':
            hordeFailure = message;
            return;
          case 'V0DeclineJobRequest':
            decline = message;
            return;
          case 'V0JobFinishedRequest':
            finished = message;
            return;
          case 'V0MachineSpecsRequest':
            ctx.onMachineSpecs?.(message.specs.specs);
            return;
        }
        const status = PROGRESS[message.message_type];
        if (!status || reached.has(status)) return;
        reached.add(status);
        const metadata: JobStatusMetadata | null =
          message.message_type === 'V0StreamingJobReadyRequest'
            ? {
                streaming_details: {
                  streaming_server_cert: message.public_key,
                  streaming_server_address: message.ip ?? null,
                  streaming_server_port: message.port,
                },
              }
            : null;
        ctx.onProgress({ status, metadata });
      },
    },
  );
  const { record, result } = await driver.runAlone();
  return { record, result, final: finalStatus(record, { finished, failure, hordeFailure, decline }, reached, ctx.connection.closed) };
}

function finalStatus(
  record: JobRecord,
  seen: {
    finished: Extract<JobMessage, { message_type: 'V0JobFinishedRequest' }> | null;
    failure: Extract<JobMessage, { message_type: 'V0JobFailedRequest' }> | null;
    hordeFailure: Extract<JobMessage, { message_type: 'V0HordeFailedRequest' }> | null;
    decline: Extract<JobMessage, { message_type: 'V0DeclineJobRequest' }> | null;
  },
  reached: ReadonlySet<JobStatus>,
  connectionClosed: boolean,
): StatusUpdate {
  const { finished, failure, hordeFailure, decline } = seen;
  switch (record.status) {
    case 'completed':
      return {
        status: 'completed',
        metadata: {
          miner_response: {
            docker_process_stdout: finished?.docker_process_stdout ?? '',
            docker_process_stderr: finished?.docker_process_stderr ?? '',
            artifacts: finished?.artifacts ?? {},
            upload_results: finished?.upload_results ?? {},
          },
        },
      };
    case 'failed':
      return {
        status: 'failed',
        metadata: {
          job_failure_details: {
            reason: failure?.reason ?? 'unknown',
            stage: failure?.stage ?? 'unknown',
            message: failure?.message ?? record.details,
            context: failure?.context ?? null,
            docker_process_exit_status: failure?.docker_process_exit_status ?? null,
            docker_process_stdout: failure?.docker_process_stdout ?? null,
            docker_process_stderr: failure?.docker_process_stderr ?? null,
          },
        },
      };
    case 'rejected':
      return {
        status: 'rejected',
        metadata: {
          job_rejection_details: {
            rejected_by: 'miner',
            reason: decline?.reason ?? 'unknown',
            message: decline?.message || record.details,
            context: decline?.context ?? null,
          },
        },
      };
    default: {
      if (hordeFailure) {
        return {
          status: 'horde_failed',
          metadata: {
            horde_failure_details: {
              reported_by: hordeFailure.reported_by,
              reason: hordeFailure.reason,
              message: hordeFailure.message,
              context: hordeFailure.context ?? null,
            },
          },
        };
      }
      // The validator gave up waiting: say for what (its streaming checks name their reason).
      const own = record.failure?.source === 'validator' ? record.failure.reason : null;
      const reason =
        own === 'streaming_job_ready_timed_out' || own === 'streaming_failed'
          ? own
          : connectionClosed
            ? 'miner_connection_failed'
            : !record.accepted
              ? 'initial_response_timed_out'
              : !reached.has('executor_ready')
                ? 'executor_readiness_response_timed_out'
                : 'final_response_timed_out';
      return {
        status: 'horde_failed',
        metadata: { horde_failure_details: { reported_by: 'validator', reason, message: record.details, context: null } },
      };
    }
  }
}
