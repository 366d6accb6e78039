/**
 * The steps of one job as a validator sends it, at the protocol level, for the fault tests that
 * attack what happens during or after them: authenticate and read the manifest, then initial
 * request → accept → executor ready → job request running `sh -c SCRIPT`.
 */
import type { Hotkey } from '../../core/src/keys/index.js';
import type { V0InitialJobRequest, V0JobRequest } from '../../core/src/protocol/index.js';
import { TestValidator } from '../support/test-validator.js';

export interface MinerAddress {
  readonly url: string;
  readonly validator: Hotkey;
  readonly minerHotkey: string;
}

/** Connects and authenticates as `validator`, and waits for the miner's manifest. */
export async function connectAsValidator(miner: MinerAddress): Promise<TestValidator> {
  const client = await TestValidator.connect(miner);
  await client.expect('V0ExecutorManifestRequest');
  return client;
}

export interface ShellJob {
  readonly executorClass: string;
  readonly image: string;
  readonly timing: V0InitialJobRequest['executor_timing'];
  /** Run as `sh -c SCRIPT`. */
  readonly script: string;
  /** More fields of the job request: `volume`, `output_upload`, `artifacts_dir`. */
  readonly request?: Partial<Pick<V0JobRequest, 'volume' | 'output_upload' | 'artifacts_dir'>>;
  /** Runs once the miner accepted (a test stops the store there). */
  readonly afterAccept?: () => void;
}

/** Sends one job up to its job request; returns its uuid. */
export async function sendShellJob(client: TestValidator, job: ShellJob): Promise<string> {
  const { jobUuid } = await client.initialJobRequest({
    executor_class: job.executorClass,
    docker_image: job.image,
    executor_timing: job.timing,
  });
  await client.expect('V0AcceptJobRequest', jobUuid);
  job.afterAccept?.();
  await client.expect('V0ExecutorReadyRequest', jobUuid, 30_000);
  await client.jobRequest({
    job_uuid: jobUuid,
    executor_class: job.executorClass,
    docker_image: job.image,
    docker_run_options_preset: 'none',
    docker_run_cmd: ['sh', '-c', job.script],
    env: {},
    ...job.request,
  });
  return jobUuid;
}
