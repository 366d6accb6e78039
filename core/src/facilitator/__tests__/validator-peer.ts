import WebSocket from 'ws';
import { encodeMessage, parseFacilitatorToValidator } from '../../protocol/codec.js';
import type { FacilitatorToValidatorMessage, ValidatorToFacilitatorMessage } from '../../protocol/facilitator-messages.js';

/** A validator's end of `/ws/v0/`, written from the protocol: messages in, in order. */
export class ValidatorPeer {
  readonly received: FacilitatorToValidatorMessage[] = [];
  closeCode: number | null = null;
  private waiters: Array<() => void> = [];
  private cursor = 0;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const parsed = parseFacilitatorToValidator(data.toString());
      if (!parsed.ok) throw new Error(`facilitator sent a frame the protocol does not allow: ${parsed.error.message}`);
      this.received.push(parsed.message);
      this.wake();
    });
    socket.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
  }

  static async open(url: string): Promise<ValidatorPeer> {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws/v0/`);
    const peer = new ValidatorPeer(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return peer;
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  send(message: ValidatorToFacilitatorMessage | Record<string, unknown>): void {
    this.socket.send(encodeMessage(message as ValidatorToFacilitatorMessage));
  }

  /** The next message not read yet. */
  async next(timeoutMs = 5_000): Promise<FacilitatorToValidatorMessage> {
    const deadline = Date.now() + timeoutMs;
    while (this.cursor >= this.received.length) {
      if (this.closeCode !== null) throw new Error(`closed (${this.closeCode}) while waiting for a message`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no message in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received[this.cursor++]!;
  }

  /** Reads until a message `matches` (skipping the others). */
  async until(matches: (message: FacilitatorToValidatorMessage) => boolean, timeoutMs = 5_000): Promise<FacilitatorToValidatorMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = await this.next(Math.max(1, deadline - Date.now()));
      if (matches(message)) return message;
    }
  }

  /** Skips everything received so far, once nothing has arrived for a moment. */
  async drain(): Promise<void> {
    while (!(await this.quiet(200)));
    this.cursor = this.received.length;
  }

  async closed(timeoutMs = 5_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeCode === null) {
      if (Date.now() > deadline) throw new Error('not closed in time');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.closeCode;
  }

  /** Nothing arrives for `ms`. */
  async quiet(ms: number): Promise<boolean> {
    const before = this.received.length;
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.received.length === before;
  }

  close(): void {
    this.socket.close();
  }
}
