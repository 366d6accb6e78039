import WebSocket from 'ws';
import type { Logger } from '../../contracts/index.js';
import { defineError } from '../../errors.js';
import { encodeMessage, parseMinerToExecutor } from '../../protocol/codec.js';
import type { ExecutorToMinerMessage, V0InitialJobRequest, V0JobRequest } from '../../protocol/messages.js';
import { sleep } from '../../time/clock.js';
import { deferred } from '../../time/deferred.js';

/** The miner could not be reached, closed the connection, or refused the token. */
export class MinerChannelError extends defineError('HORDE_EXECUTOR_MINER_CONNECTION_FAILED') {}

/** `{minerAddress}/v0.1/executor_interface/{token}`. A trailing slash on the address is ignored. */
export function executorInterfaceUrl(minerAddress: string, token: string): string {
  return `${minerAddress.replace(/\/+$/, '')}/v0.1/executor_interface/${encodeURIComponent(token)}`;
}

export interface MinerChannelOptions {
  readonly minerAddress: string;
  readonly token: string;
  readonly logger: Logger;
  /** Connection attempts before giving up (ComputeHorde's WSTransport: 5). */
  readonly attempts?: number;
  /** Abort connecting (the startup deadline passed, SIGTERM). */
  readonly signal?: AbortSignal;
}

/**
 * The executor's side of `/v0.1/executor_interface/{token}`: receives the job's two requests
 * (`V0InitialJobRequest` when it connects, `V0JobRequest` later) and sends the job's progress.
 * Frames are parsed with the protocol codec; a bad frame is answered with `GenericError` and
 * otherwise ignored, as the original does.
 */
export class MinerChannel {
  private socket: WebSocket | null = null;
  // Rejected when the connection ends, whether or not the driver waits for them yet.
  private readonly initial = deferred<V0InitialJobRequest>({ unobserved: 'ignore' });
  private readonly job = deferred<V0JobRequest>({ unobserved: 'ignore' });
  private closedError: MinerChannelError | null = null;
  private closing = false;
  private readonly lostController = new AbortController();

  /**
   * Aborted when the connection ends without this side closing it: the miner died (kill -9
   * closes its sockets) or went away. The job must not outlive it: its slot is the miner's to give
   * out again, and a restarted miner would hand the same GPU to another job.
   */
  get lost(): AbortSignal {
    return this.lostController.signal;
  }

  constructor(private readonly options: MinerChannelOptions) {}

  /** Opens the connection, retrying with backoff (1 s × 2^attempt + jitter, as the original). */
  async open(): Promise<void> {
    const attempts = this.options.attempts ?? 5;
    const url = executorInterfaceUrl(this.options.minerAddress, this.options.token);
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      if (this.options.signal?.aborted) break;
      try {
        // Messages are handled from the first frame: the miner sends the initial request at once.
        this.socket = await connect(url, (data, isBinary) => this.onMessage(data, isBinary), this.options.signal);
        this.listen(this.socket);
        return;
      } catch (error) {
        lastError = error;
        this.options.logger.warn({ err: error, attempt: attempt + 1 }, 'could not connect to the miner');
        if (attempt + 1 < attempts) await pause(1000 * 2 ** attempt + Math.random() * 1000, this.options.signal);
      }
    }
    throw new MinerChannelError(
      `could not connect to the miner at ${this.options.minerAddress}: ${String((lastError as Error)?.message ?? lastError)}`,
      {
        cause: lastError,
      },
    );
  }

  /** The first request: resolves when the miner sent it; rejects if the connection closes first. */
  initialRequest(): Promise<V0InitialJobRequest> {
    return this.initial.promise;
  }

  /** The full job request (`V0JobRequest`). */
  jobRequest(): Promise<V0JobRequest> {
    return this.job.promise;
  }

  async send(message: ExecutorToMinerMessage): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      throw this.closedError ?? new MinerChannelError('the connection to the miner is closed');
    }
    await new Promise<void>((resolve, reject) => socket.send(encodeMessage(message), (error) => (error ? reject(error) : resolve())));
  }

  /** Closes the connection politely and waits (briefly) for the close handshake. */
  async close(): Promise<void> {
    this.closing = true;
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.close(1000);
    const timer = setTimeout(() => socket.terminate(), 2_000);
    await closed;
    clearTimeout(timer);
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    const log = this.options.logger;
    const frame = isBinary ? (data as Buffer) : data.toString();
    // One job per agent: each request type is parsed once, interpreted (see `CodecOptions.jitless`):
    // the first V0JobRequest parse took 1.6 ms compiled, 0.7 ms interpreted, on the warm path.
    const parsed = parseMinerToExecutor(frame as string | Buffer, { jitless: true });
    if (!parsed.ok) {
      if (parsed.error.code === 'PING') return;
      log.warn({ err: parsed.error }, 'bad message from the miner');
      void this.send({ message_type: 'GenericError', details: `bad message: ${parsed.error.message}` }).catch(() => {});
      return;
    }
    const msg = parsed.message;
    switch (msg.message_type) {
      case 'V0InitialJobRequest':
        if (this.initial.settled) {
          this.refuse(`duplicate initial job request for ${msg.job_uuid}`);
          return;
        }
        this.initial.resolve(msg);
        setImmediate(() => warmJobRequestChecks(msg));
        return;
      case 'V0JobRequest':
        if (!this.initial.settled) {
          this.refuse(`job request for ${msg.job_uuid} before the initial job request`);
          return;
        }
        if (this.job.settled) {
          this.refuse(`duplicate job request for ${msg.job_uuid}`);
          return;
        }
        this.job.resolve(msg);
        return;
      case 'GenericError':
        // The miner refuses a token it does not know ("No job waiting for token ...").
        log.error({ details: msg.details }, 'the miner reported an error');
        if (!this.initial.settled) this.fail(new MinerChannelError(`the miner refused the executor: ${msg.details ?? 'no details'}`));
        return;
    }
  }

  private listen(socket: WebSocket): void {
    const log = this.options.logger;
    socket.on('close', (code, reason) => {
      const error = new MinerChannelError(`the miner closed the connection (code ${code}${reason.length ? `: ${reason.toString()}` : ''})`);
      this.fail(error);
      if (!this.closing) {
        log.error({ code }, 'lost the connection to the miner; stopping the job');
        this.lostController.abort(error);
      }
    });
    socket.on('error', (error) => log.warn({ err: error }, 'miner connection error'));
  }

  private refuse(details: string): void {
    this.options.logger.error({ details }, 'unexpected message from the miner');
    void this.send({ message_type: 'GenericError', details }).catch(() => {});
  }

  private fail(error: MinerChannelError): void {
    this.closedError ??= error;
    for (const pending of [this.initial, this.job]) {
      if (!pending.settled) pending.reject(error);
    }
  }
}

/**
 * The job request's checks run once, on a minimal request of this job, while the executor gets
 * ready: the agent is a fresh process, and the first parse of a message type runs code V8 has not
 * compiled yet (0.7 ms for the first V0JobRequest, 0.15-0.2 ms after this), which would otherwise
 * run when the real request comes, on the warm path. What it parses is discarded.
 */
function warmJobRequestChecks(initial: V0InitialJobRequest): void {
  const sample: V0JobRequest = {
    message_type: 'V0JobRequest',
    job_uuid: initial.job_uuid,
    executor_class: initial.executor_class,
    docker_image: initial.docker_image ?? '',
    docker_run_options_preset: 'none',
    docker_run_cmd: [],
    env: {},
  };
  parseMinerToExecutor(encodeMessage(sample), { jitless: true });
}

function connect(url: string, onMessage: (data: WebSocket.RawData, isBinary: boolean) => void, signal?: AbortSignal): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    // ComputeHorde's transport allows 50 MiB messages (volumes and results travel inline).
    const socket = new WebSocket(url, { maxPayload: 50 * 1024 * 1024, handshakeTimeout: 10_000 });
    socket.on('message', onMessage);
    const onAbort = () => socket.terminate();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('open', () => {
      signal?.removeEventListener('abort', onAbort);
      resolve(socket);
    });
    socket.once('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    socket.once('close', () => reject(new MinerChannelError('connection closed during the handshake')));
  });
}

/** Waits `ms`, or less when `signal` aborts (then it resolves: the caller checks the signal). */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return sleep(ms, signal).catch(() => undefined);
}
