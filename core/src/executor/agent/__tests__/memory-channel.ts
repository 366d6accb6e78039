import type { DockerRunOptionsPreset } from '../../../contracts/index.js';
import type { ExecutorToMinerMessage, V0InitialJobRequest, V0JobRequest } from '../../../protocol/messages.js';
import type { JobChannel } from '../job-driver.js';

export const TEST_JOB_UUID = '0b7b5c3e-4a8e-4f4e-9a53-0c4b1b0b2f61';
const TIMING = {
  allowed_leeway: 5,
  download_time_limit: 10,
  execution_time_limit: 10,
  upload_time_limit: 10,
  streaming_start_time_limit: 5,
};

/**
 * The miner's side of the executor connection, in memory: hands the job driver its two requests
 * (a `local/shell` job that runs `command`) and keeps what the driver sends back in `sent`.
 */
export function memoryJobChannel(
  options: {
    readonly command?: string[];
    readonly executorClass?: string;
    readonly preset?: DockerRunOptionsPreset;
    readonly image?: string;
    /** A streaming job: the client's certificate and the address the miner filled in. */
    readonly streamingDetails?: { public_key: string; executor_ip: string | null };
    readonly timing?: Partial<typeof TIMING>;
    readonly outputUpload?: V0JobRequest['output_upload'];
    /** Sees each message as the driver sends it. */
    readonly onSend?: (message: ExecutorToMinerMessage) => void;
  } = {},
): JobChannel & { sent: ExecutorToMinerMessage[] } {
  const image = options.image ?? 'local/shell';
  const executorClass = options.executorClass ?? 'always_on.test';
  const initial: V0InitialJobRequest = {
    message_type: 'V0InitialJobRequest',
    job_uuid: TEST_JOB_UUID,
    executor_class: executorClass,
    docker_image: image,
    ...(options.streamingDetails ? { streaming_details: options.streamingDetails } : {}),
    job_started_receipt_payload: {
      receipt_type: 'JobStartedReceipt',
      job_uuid: TEST_JOB_UUID,
      miner_hotkey: 'miner',
      validator_hotkey: 'validator',
      timestamp: '2025-01-02T03:04:05Z',
      executor_class: executorClass,
      is_organic: false,
      ttl: 30,
    },
    job_started_receipt_signature: '0x00',
    executor_timing: { ...TIMING, ...options.timing },
  };
  const job: V0JobRequest = {
    message_type: 'V0JobRequest',
    job_uuid: TEST_JOB_UUID,
    executor_class: executorClass,
    docker_image: image,
    docker_run_options_preset: options.preset ?? 'none',
    docker_run_cmd: options.command ?? ['echo ran'],
    env: {},
    ...(options.outputUpload ? { output_upload: options.outputUpload } : {}),
  };
  const sent: ExecutorToMinerMessage[] = [];
  return {
    sent,
    initialRequest: async () => initial,
    jobRequest: async () => job,
    send: async (message) => {
      sent.push(message);
      options.onSend?.(message);
    },
  };
}
