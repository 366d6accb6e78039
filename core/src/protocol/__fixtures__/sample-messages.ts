/**
 * One realistic instance of every protocol message, by direction. Used by the codec round-trip
 * tests and by the protocol benchmark (test/bench/protocol), which imports the built copy.
 * Signatures here are well-formed hex/base64 but sign nothing: the codec does not verify them.
 */

const VALIDATOR = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const MINER = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';
const JOB = '7b5a8c4e-1f0e-4a5b-9a53-0c4b1b0b2f61';
const SIG = `0x${'ab'.repeat(64)}`;

const startedPayload = {
  receipt_type: 'JobStartedReceipt',
  job_uuid: JOB,
  miner_hotkey: MINER,
  validator_hotkey: VALIDATOR,
  timestamp: '2025-01-02T03:04:05.123456Z',
  executor_class: 'always_on.llm.a6000',
  is_organic: true,
  ttl: 7,
} as const;

export type Direction = 'validatorToMiner' | 'minerToValidator' | 'minerToExecutor' | 'executorToMiner' | 'facilitatorToValidator' | 'validatorToFacilitator';

export interface Sample {
  name: string;
  direction: Direction;
  message: Record<string, unknown>;
}

export const SAMPLE_MESSAGES: readonly Sample[] = [
  { name: 'GenericError', direction: 'minerToValidator', message: { message_type: 'GenericError', details: 'something broke' } },
  {
    name: 'ValidatorAuthForMiner',
    direction: 'validatorToMiner',
    message: { message_type: 'ValidatorAuthForMiner', validator_hotkey: VALIDATOR, miner_hotkey: MINER, timestamp: 1735787045, signature: SIG },
  },
  { name: 'UnauthorizedError', direction: 'minerToValidator', message: { message_type: 'UnauthorizedError', code: 'TOKEN_TOO_OLD', details: 'msg too old' } },
  {
    name: 'V0ExecutorManifestRequest',
    direction: 'minerToValidator',
    message: { message_type: 'V0ExecutorManifestRequest', manifest: { 'always_on.llm.a6000': 2, 'always_on.cpu.8c.16gb': 4 } },
  },
  { name: 'V0MainHotkeyMessage', direction: 'validatorToMiner', message: { message_type: 'V0MainHotkeyMessage', main_hotkey: MINER } },
  {
    name: 'V0InitialJobRequest',
    direction: 'validatorToMiner',
    message: {
      message_type: 'V0InitialJobRequest',
      job_uuid: JOB,
      executor_class: 'always_on.llm.a6000',
      docker_image: 'backenddevelopersltd/compute-horde-job:v1-latest',
      volume: { volume_type: 'single_file', url: 'https://s3.example.com/prompts.txt', relative_path: 'prompts.txt' },
      job_started_receipt_payload: startedPayload,
      job_started_receipt_signature: SIG,
      streaming_details: null,
      executor_timing: { allowed_leeway: 5, download_time_limit: 60, execution_time_limit: 600, upload_time_limit: 120, streaming_start_time_limit: 30 },
    },
  },
  { name: 'V0AcceptJobRequest', direction: 'minerToValidator', message: { message_type: 'V0AcceptJobRequest', job_uuid: JOB } },
  {
    name: 'V0DeclineJobRequest',
    direction: 'minerToValidator',
    message: {
      message_type: 'V0DeclineJobRequest',
      job_uuid: JOB,
      message: 'all executors busy',
      reason: 'busy',
      receipts: [{ payload: startedPayload, validator_signature: SIG, miner_signature: SIG }],
      context: { busy_executors: 2 },
    },
  },
  { name: 'V0ExecutorReadyRequest', direction: 'minerToValidator', message: { message_type: 'V0ExecutorReadyRequest', job_uuid: JOB } },
  {
    name: 'V0JobRequest',
    direction: 'validatorToMiner',
    message: {
      message_type: 'V0JobRequest',
      job_uuid: JOB,
      executor_class: 'always_on.llm.a6000',
      docker_image: 'backenddevelopersltd/compute-horde-job:v1-latest',
      raw_script: null,
      docker_run_options_preset: 'nvidia_all',
      docker_run_cmd: ['--runtime', '600', '--seed', '42'],
      env: { HF_HOME: '/volume/hf' },
      volume: null,
      output_upload: {
        output_upload_type: 'multi_upload',
        uploads: [{ output_upload_type: 'single_file_put', url: 'https://s3.example.com/out.json?sig=abc', relative_path: 'out.json' }],
        system_output: { output_upload_type: 'zip_and_http_post', url: 'https://s3.example.com/sys', form_fields: { key: 'sys.zip' } },
      },
      artifacts_dir: '/artifacts',
    },
  },
  { name: 'V0VolumesReadyRequest', direction: 'minerToValidator', message: { message_type: 'V0VolumesReadyRequest', job_uuid: JOB } },
  {
    name: 'V0StreamingJobReadyRequest',
    direction: 'minerToValidator',
    message: {
      message_type: 'V0StreamingJobReadyRequest',
      job_uuid: JOB,
      public_key: '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n',
      ip: '203.0.113.7',
      port: 6006,
      miner_signature: SIG,
    },
  },
  { name: 'V0ExecutionDoneRequest', direction: 'executorToMiner', message: { message_type: 'V0ExecutionDoneRequest', job_uuid: JOB } },
  {
    name: 'V0MachineSpecsRequest',
    direction: 'executorToMiner',
    message: {
      message_type: 'V0MachineSpecsRequest',
      job_uuid: JOB,
      specs: { specs: { gpu: { count: 1, details: [{ name: 'NVIDIA RTX A6000', capacity: 49140 }] }, cpu: { count: 32 }, ram: { total: 131072000 }, os: 'Ubuntu 22.04' } },
    },
  },
  {
    name: 'V0JobFinishedRequest',
    direction: 'executorToMiner',
    message: {
      message_type: 'V0JobFinishedRequest',
      job_uuid: JOB,
      docker_process_stdout: 'Znm7Qn2bTQ0C2e1kV8pB6bQ3Xv6dXk8sJm4T2nWq8xE=\n',
      docker_process_stderr: '',
      artifacts: { '/artifacts/result.json': Buffer.from('{"ok":true}').toString('base64') },
      upload_results: { 'out.json': '{"headers": {"ETag": "abc"}, "body": ""}' },
    },
  },
  {
    name: 'V0JobFailedRequest',
    direction: 'executorToMiner',
    message: {
      message_type: 'V0JobFailedRequest',
      job_uuid: JOB,
      message: 'container exited with 1',
      reason: 'nonzero_return_code',
      stage: 'execution',
      docker_process_exit_status: 1,
      docker_process_stdout: '',
      docker_process_stderr: 'Traceback (most recent call last): ...',
      context: { exit_status: 1 },
    },
  },
  {
    name: 'V0HordeFailedRequest',
    direction: 'minerToValidator',
    message: { message_type: 'V0HordeFailedRequest', job_uuid: JOB, reported_by: 'miner', message: 'executor failed to start', reason: 'executor_spinup_failed', context: null },
  },
  {
    name: 'V0JobAcceptedReceiptRequest',
    direction: 'validatorToMiner',
    message: {
      message_type: 'V0JobAcceptedReceiptRequest',
      payload: {
        receipt_type: 'JobAcceptedReceipt',
        job_uuid: JOB,
        miner_hotkey: MINER,
        validator_hotkey: VALIDATOR,
        timestamp: '2025-01-02T03:04:06.5Z',
        time_accepted: '2025-01-02T03:04:06.4Z',
        ttl: 845,
      },
      signature: SIG,
    },
  },
  {
    name: 'V0JobFinishedReceiptRequest',
    direction: 'validatorToMiner',
    message: {
      message_type: 'V0JobFinishedReceiptRequest',
      payload: {
        receipt_type: 'JobFinishedReceipt',
        job_uuid: JOB,
        miner_hotkey: MINER,
        validator_hotkey: VALIDATOR,
        timestamp: '2025-01-02T03:14:05.123456Z',
        time_started: '2025-01-02T03:04:07.000001Z',
        time_took_us: 598123455,
        score_str: '598.123455',
        block_numbers: [5000001, 5000002],
      },
      signature: SIG,
    },
  },
  { name: 'V0AuthenticationRequest', direction: 'validatorToFacilitator', message: { message_type: 'V0AuthenticationRequest', public_key: 'd4'.repeat(32), signature: SIG } },
  {
    name: 'V2JobRequest',
    direction: 'facilitatorToValidator',
    message: {
      type: 'job.new',
      message_type: 'V2JobRequest',
      uuid: JOB,
      job_namespace: 'SN123.0',
      executor_class: 'always_on.cpu.8c.16gb',
      docker_image: 'python:3.11-slim',
      args: ['python', '-c', 'print(42)'],
      env: {},
      use_gpu: false,
      volume: { volume_type: 'inline', contents: 'UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==', relative_path: null },
      output_upload: null,
      artifacts_dir: '/artifacts',
      on_trusted_miner: false,
      download_time_limit: 5,
      execution_time_limit: 15,
      upload_time_limit: 5,
      streaming_start_time_limit: 5,
      streaming_details: null,
      signature: {
        signature_type: 'bittensor',
        signatory: VALIDATOR,
        timestamp_ns: 1729622861880448856n,
        signature: Buffer.alloc(64, 7).toString('base64'),
        signature_scope: 'SignedFields',
      },
    },
  },
  {
    name: 'V0JobCheated',
    direction: 'facilitatorToValidator',
    message: {
      type: 'job.cheated',
      message_type: 'V0JobCheated',
      job_uuid: JOB,
      trusted_job_uuid: '00000000-0000-0000-0000-000000000001',
      details: { reason: 'output differs' },
      signature: {
        signature_type: 'bittensor',
        signatory: VALIDATOR,
        timestamp_ns: 1729622861880448856n,
        signature: Buffer.alloc(64, 9).toString('base64'),
        signature_scope: 'FullRequest',
      },
    },
  },
  {
    name: 'V0JobStatusUpdate',
    direction: 'validatorToFacilitator',
    message: {
      message_type: 'V0JobStatusUpdate',
      uuid: JOB,
      status: 'failed',
      metadata: {
        job_failure_details: {
          reason: 'timeout',
          stage: 'execution',
          message: 'execution time limit exceeded',
          context: null,
          docker_process_exit_status: null,
          docker_process_stdout: '',
          docker_process_stderr: '',
        },
      },
    },
  },
  { name: 'V0Heartbeat', direction: 'validatorToFacilitator', message: { message_type: 'V0Heartbeat' } },
  {
    name: 'V0MachineSpecsUpdate',
    direction: 'validatorToFacilitator',
    message: { message_type: 'V0MachineSpecsUpdate', miner_hotkey: MINER, validator_hotkey: VALIDATOR, specs: { cpu: { count: 8 } }, batch_id: 'b-1' },
  },
  { name: 'Response', direction: 'facilitatorToValidator', message: { status: 'error', errors: [{ msg: 'bad signature', type: 'auth', help: '' }] } },
];
