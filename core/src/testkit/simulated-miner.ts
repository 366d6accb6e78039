import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Manifest, Receipt } from '../contracts/index.js';
import type { Hotkey } from '../keys/index.js';
import {
  AuthVerifier,
  authErrorReply,
  encodeMessage,
  parseValidatorToMiner,
  receiptBlob,
  verifyReceiptSignature,
  type MinerToValidatorMessage,
  type V0InitialJobRequest,
  type V0JobRequest,
} from '../protocol/index.js';

/** What a simulated executor returns for a job request. */
export interface SimulatedJobOutput {
  readonly stdout?: string;
  readonly stderr?: string;
  readonly artifacts?: Record<string, string>;
  /** Report the job failed (non-zero exit) instead of finished. */
  readonly fail?: boolean;
  /** Machine specs sent in `V0MachineSpecsRequest` before the result (shape of `readMachineSpecs`); none when absent. */
  readonly machineSpecs?: Record<string, unknown>;
}

export interface SimulatedMinerOptions {
  /** The miner's own hotkey; auth messages must name it. */
  readonly hotkey: Hotkey;
  readonly manifest: Manifest;
  /** Answer to `V0MainHotkeyMessage`; default the miner's own hotkey. */
  readonly mainHotkey?: string | null;
  /** What the executor "runs". Default: prints the job's command after its first two words (`--key X` → `X`). */
  readonly execute?: (request: V0JobRequest, initial: V0InitialJobRequest) => SimulatedJobOutput | Promise<SimulatedJobOutput>;
  /** Busy excuses for a decline; when set, every initial request is declined `busy` with these receipts. */
  readonly declineWith?: (initial: V0InitialJobRequest) => readonly Receipt[] | null;
  /** Delay before the executor reports ready (ms). */
  readonly readyDelayMs?: number;
  /** Delay between the job request and the result (the "job time", ms). */
  readonly executionDelayMs?: number;
  readonly host?: string;
  /** Check the validator's signature on every receipt (default true). The batch benchmark turns it off. */
  readonly verifyReceipts?: boolean;
  /** Messages a misbehaving miner sends right after reporting the executor ready (e.g. a flood). */
  readonly afterReady?: (jobUuid: string) => readonly MinerToValidatorMessage[];
  /** Messages sent after the job request, before the result (volumes ready, streaming ready, …). */
  readonly beforeResult?: (request: V0JobRequest, initial: V0InitialJobRequest) => readonly MinerToValidatorMessage[];
}

/**
 * A miner and its executors in one object, speaking the validator side of the v0.1 protocol over
 * real websockets: it checks the validator's auth signature, sends the manifest, answers main
 * hotkey queries, accepts while a class has free executors (declines `busy` otherwise), reports
 * the executor ready, "runs" the job with `execute` and returns the result, and checks every
 * receipt's validator signature. For validator tests and the batch benchmark: thousands of
 * executors that answer instantly.
 */
export class SimulatedMiner {
  /** Receipts received, by type, whose validator signature verified. */
  readonly receipts = { started: 0, accepted: 0, finished: 0, badSignatures: 0 };
  readonly jobs: V0JobRequest[] = [];
  /** Arrival time (ms since epoch) of every message that concerns a job, in order. */
  readonly timeline: Array<{
    readonly messageType: string;
    readonly jobUuid: string;
    readonly executorClass?: string;
    readonly at: number;
  }> = [];
  private readonly busy = new Map<string, number>();

  private constructor(
    private readonly options: SimulatedMinerOptions,
    private readonly server: Server,
    private readonly wss: WebSocketServer,
    readonly port: number,
  ) {}

  static async start(options: SimulatedMinerOptions): Promise<SimulatedMiner> {
    const server = createServer((_req, res) => res.writeHead(404).end());
    const wss = new WebSocketServer({ server, path: undefined, perMessageDeflate: false });
    await new Promise<void>((resolve) => server.listen(0, options.host ?? '127.0.0.1', resolve));
    const miner = new SimulatedMiner(options, server, wss, (server.address() as AddressInfo).port);
    wss.on('connection', (socket, request) => miner.serve(socket, decodeURIComponent((request.url ?? '').split('/').at(-1) ?? '')));
    return miner;
  }

  get hotkey(): string {
    return this.options.hotkey.ss58;
  }

  /** Validator connections open now. */
  get openConnections(): number {
    return this.wss.clients.size;
  }

  private serve(socket: WebSocket, urlValidatorHotkey: string): void {
    const verifier = new AuthVerifier({ minerHotkey: this.hotkey });
    const send = (message: MinerToValidatorMessage) => socket.send(encodeMessage(message));
    const initials = new Map<string, V0InitialJobRequest>();
    let authenticated = false;

    socket.on('message', async (data) => {
      const parsed = parseValidatorToMiner(data.toString());
      if (!parsed.ok) return send({ message_type: 'GenericError', details: parsed.error.message });
      const message = parsed.message;
      if (!authenticated) {
        if (message.message_type !== 'ValidatorAuthForMiner') return;
        const result = await verifier.verify(message, urlValidatorHotkey);
        if (!result.ok) {
          send(authErrorReply(result.error));
          return socket.close(1000);
        }
        authenticated = true;
        return send({ message_type: 'V0ExecutorManifestRequest', manifest: this.options.manifest });
      }
      if ('job_uuid' in message) {
        const executorClass = 'executor_class' in message ? message.executor_class : undefined;
        this.timeline.push({
          messageType: message.message_type,
          jobUuid: message.job_uuid,
          ...(executorClass ? { executorClass } : {}),
          at: Date.now(),
        });
      }
      switch (message.message_type) {
        case 'V0MainHotkeyMessage':
          return send({
            message_type: 'V0MainHotkeyMessage',
            main_hotkey: this.options.mainHotkey === undefined ? this.hotkey : this.options.mainHotkey,
          });
        case 'V0InitialJobRequest': {
          await this.countReceipt('started', message.job_started_receipt_payload, message.job_started_receipt_signature);
          const excuses = this.options.declineWith?.(message) ?? null;
          const inUse = this.busy.get(message.executor_class) ?? 0;
          if (excuses !== null || inUse >= (this.options.manifest[message.executor_class] ?? 0)) {
            return send({
              message_type: 'V0DeclineJobRequest',
              job_uuid: message.job_uuid,
              message: 'all executors busy',
              reason: 'busy',
              receipts: (excuses ?? []).map((receipt) => this.countersigned(receipt)),
            });
          }
          this.busy.set(message.executor_class, inUse + 1);
          initials.set(message.job_uuid, message);
          send({ message_type: 'V0AcceptJobRequest', job_uuid: message.job_uuid });
          const ready = () => {
            send({ message_type: 'V0ExecutorReadyRequest', job_uuid: message.job_uuid });
            for (const extra of this.options.afterReady?.(message.job_uuid) ?? []) send(extra);
          };
          if (this.options.readyDelayMs) setTimeout(ready, this.options.readyDelayMs);
          else ready();
          return;
        }
        case 'V0JobRequest': {
          const initial = initials.get(message.job_uuid);
          if (!initial) return send({ message_type: 'GenericError', details: `unknown job ${message.job_uuid}` });
          this.jobs.push(message);
          for (const extra of this.options.beforeResult?.(message, initial) ?? []) send(extra);
          if (this.options.executionDelayMs) await new Promise((resolve) => setTimeout(resolve, this.options.executionDelayMs));
          const output = await (this.options.execute ?? defaultExecute)(message, initial);
          this.busy.set(message.executor_class, Math.max(0, (this.busy.get(message.executor_class) ?? 1) - 1));
          initials.delete(message.job_uuid);
          if (output.fail) {
            return send({
              message_type: 'V0JobFailedRequest',
              job_uuid: message.job_uuid,
              message: 'exit 1',
              reason: 'nonzero_return_code',
              stage: 'execution',
              docker_process_exit_status: 1,
            });
          }
          if (output.machineSpecs)
            send({ message_type: 'V0MachineSpecsRequest', job_uuid: message.job_uuid, specs: { specs: output.machineSpecs } });
          return send({
            message_type: 'V0JobFinishedRequest',
            job_uuid: message.job_uuid,
            docker_process_stdout: output.stdout ?? '',
            docker_process_stderr: output.stderr ?? '',
            artifacts: output.artifacts ?? {},
            upload_results: {},
          });
        }
        case 'V0JobAcceptedReceiptRequest':
          return this.countReceipt('accepted', message.payload, message.signature);
        case 'V0JobFinishedReceiptRequest':
          return this.countReceipt('finished', message.payload, message.signature);
        default:
          return;
      }
    });
  }

  /** Excuses go out with the miner's signature, as a real miner keeps them. */
  private countersigned(receipt: Receipt): Receipt & { miner_signature: string } {
    return { ...receipt, miner_signature: receipt.miner_signature ?? this.options.hotkey.sign(receiptBlob(receipt.payload)) };
  }

  private async countReceipt(kind: 'started' | 'accepted' | 'finished', payload: Receipt['payload'], signature: string): Promise<void> {
    const verified = this.options.verifyReceipts === false || (await verifyReceiptSignature(payload, signature, 'validator'));
    if (payload.miner_hotkey === this.hotkey && verified) this.receipts[kind] += 1;
    else this.receipts.badSignatures += 1;
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function defaultExecute(request: V0JobRequest): SimulatedJobOutput {
  return { stdout: `${request.docker_run_cmd.slice(1).join(' ')}\n` };
}
