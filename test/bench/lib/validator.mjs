// A validator side for the benchmarks, written from the ComputeHorde v0.1 protocol like
// test/support/test-validator.ts: it authenticates, sends a job's messages and times their answers.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import WebSocket from 'ws';
import { DIST } from './report.mjs';

const protocol = await import(join(DIST, 'protocol/index.js'));

const FAILURES = new Set(['V0DeclineJobRequest', 'V0ExecutorFailedRequest', 'V0JobFailedRequest']);

export const NOOP_TIMING = {
  allowed_leeway: 5,
  download_time_limit: 20,
  execution_time_limit: 30,
  upload_time_limit: 20,
  streaming_start_time_limit: 5,
};

export class BenchValidator {
  /** @param {WebSocket} socket */
  constructor(socket, hotkey, minerHotkey) {
    this.socket = socket;
    this.hotkey = hotkey;
    this.minerHotkey = minerHotkey;
    /** job uuid (or message type for job-less messages) → waiting resolvers by message type */
    this.waiting = new Map();
    this.queued = new Map();
    this.closed = false;
    socket.on('message', (data) => {
      const parsed = protocol.parseMinerToValidator(data.toString());
      if (!parsed.ok) throw new Error(`miner sent a message the protocol does not allow: ${parsed.error.message}`);
      const message = parsed.message;
      if (FAILURES.has(message.message_type)) {
        // A job that failed or was declined: whoever waits for anything of that job learns it now.
        for (const [key, waiter] of this.waiting) {
          if (!key.endsWith(`:${message.job_uuid}`)) continue;
          this.waiting.delete(key);
          waiter.reject(Object.assign(new Error(`${message.message_type}: ${JSON.stringify(message).slice(0, 300)}`), { reply: message }));
        }
      }
      const key = `${message.message_type}:${message.job_uuid ?? ''}`;
      const waiter = this.waiting.get(key);
      if (waiter) {
        this.waiting.delete(key);
        waiter.resolve({ message, at: performance.now() });
      } else {
        this.queued.set(key, { message, at: performance.now() });
      }
    });
    socket.on('close', () => {
      this.closed = true;
      for (const waiter of this.waiting.values()) waiter.reject(new Error('the miner closed the connection'));
      this.waiting.clear();
    });
  }

  static async connect(url, hotkey, minerHotkey) {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v0.1/validator_interface/${hotkey.ss58}`);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const client = new BenchValidator(socket, hotkey, minerHotkey);
    client.send(protocol.createValidatorAuth(hotkey, minerHotkey));
    await client.wait('V0ExecutorManifestRequest', '', 10_000);
    return client;
  }

  send(message) {
    this.socket.send(protocol.encodeMessage(message));
  }

  /** Resolves with `{ message, at }` when the miner sends `type` (for `jobUuid`); a failure message rejects. */
  wait(type, jobUuid, timeoutMs = 30_000) {
    const key = `${type}:${jobUuid}`;
    const queued = this.queued.get(key);
    if (queued) {
      this.queued.delete(key);
      return Promise.resolve(queued);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        const others = [...this.queued.values()]
          .filter((q) => q.message.job_uuid === jobUuid)
          .map((q) => JSON.stringify(q.message).slice(0, 300));
        reject(new Error(`no ${type} for ${jobUuid || 'the connection'} within ${timeoutMs} ms; got: ${others.join(' | ') || 'nothing'}`));
      }, timeoutMs);
      this.waiting.set(key, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  /** Sends `V0InitialJobRequest` with a fresh started receipt; returns the job uuid and when it was sent. */
  initialJobRequest({ executorClass, image, timing = NOOP_TIMING, jobUuid = randomUUID() }) {
    const receipt = protocol.createJobStartedReceipt(
      { jobUuid, minerHotkey: this.minerHotkey, executorClass, isOrganic: true, ttl: 30 },
      this.hotkey,
    );
    const sentAt = performance.now();
    this.send({
      message_type: 'V0InitialJobRequest',
      job_uuid: jobUuid,
      executor_class: executorClass,
      docker_image: image,
      executor_timing: timing,
      job_started_receipt_payload: receipt.payload,
      job_started_receipt_signature: receipt.validator_signature,
    });
    return { jobUuid, sentAt };
  }

  acceptedReceipt(jobUuid) {
    const receipt = protocol.createJobAcceptedReceipt(
      { jobUuid, minerHotkey: this.minerHotkey, timeAccepted: protocol.utcNowPydantic(), ttl: 120 },
      this.hotkey,
    );
    this.send({ message_type: 'V0JobAcceptedReceiptRequest', payload: receipt.payload, signature: receipt.validator_signature });
  }

  jobRequest({ jobUuid, executorClass, image, command }) {
    const sentAt = performance.now();
    this.send({
      message_type: 'V0JobRequest',
      job_uuid: jobUuid,
      executor_class: executorClass,
      docker_image: image,
      docker_run_options_preset: 'none',
      docker_run_cmd: command,
      env: {},
    });
    return sentAt;
  }

  finishedReceipt(jobUuid, timeTookUs) {
    const receipt = protocol.createJobFinishedReceipt(
      { jobUuid, minerHotkey: this.minerHotkey, timeStarted: protocol.utcNowPydantic(), timeTookUs, score: 1 },
      this.hotkey,
    );
    this.send({ message_type: 'V0JobFinishedReceiptRequest', payload: receipt.payload, signature: receipt.validator_signature });
  }

  /**
   * One whole job as a validator runs it; returns milliseconds for each phase:
   * accept (initial request → accept), ready (→ executor ready), cold (initial request → finished)
   * and warm (job request to a ready executor → finished).
   */
  async runJob({ executorClass, image, command }) {
    const { jobUuid, sentAt } = this.initialJobRequest({ executorClass, image });
    const accepted = await this.wait('V0AcceptJobRequest', jobUuid);
    this.acceptedReceipt(jobUuid);
    const ready = await this.wait('V0ExecutorReadyRequest', jobUuid);
    const jobSentAt = this.jobRequest({ jobUuid, executorClass, image, command });
    const finished = await this.wait('V0JobFinishedRequest', jobUuid);
    this.finishedReceipt(jobUuid, Math.round((finished.at - jobSentAt) * 1000));
    // The progress messages came before the result (one connection, in order): their arrival
    // splits the warm path into the executor's stages as the validator sees them.
    const volumesReady = await this.wait('V0VolumesReadyRequest', jobUuid, 0);
    const executionDone = await this.wait('V0ExecutionDoneRequest', jobUuid, 0);
    return {
      stages: {
        volumesReadyMs: volumesReady.at - jobSentAt,
        executionMs: executionDone.at - volumesReady.at,
        resultMs: finished.at - executionDone.at,
      },
      jobUuid,
      acceptMs: accepted.at - sentAt,
      readyMs: ready.at - sentAt,
      coldMs: finished.at - sentAt,
      warmMs: finished.at - jobSentAt,
      finished: finished.message,
    };
  }

  /** `runJob`, retried while the miner declines as busy (its executor of the last job is still exiting). */
  async runJobWhenFree(job, retryMs = 10) {
    for (;;) {
      try {
        return await this.runJob(job);
      } catch (error) {
        if (error.reply?.message_type !== 'V0DeclineJobRequest' || error.reply.reason !== 'busy') throw error;
        await new Promise((resolve) => setTimeout(resolve, retryMs));
      }
    }
  }

  close() {
    if (!this.closed) this.socket.close(1000);
  }
}
