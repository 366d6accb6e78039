/**
 * Collects a job's stdout or stderr without letting a chatty job exhaust the executor's memory:
 * up to `maxBytes` is kept whole; past that, the first and the last `maxBytes / 2` bytes are kept
 * with a marker between them. The executor only ever sends the head and tail of long outputs
 * (see output-text.ts), so nothing it reports is lost.
 */
export const DEFAULT_MAX_CAPTURE_BYTES = 64 * 1024 * 1024;

export class OutputCapture {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;

  constructor(private readonly maxBytes = DEFAULT_MAX_CAPTURE_BYTES) {}

  write(chunk: Buffer): void {
    this.total += chunk.length;
    const half = Math.floor(this.maxBytes / 2);
    let rest = chunk;
    if (this.headBytes < half) {
      const take = rest.subarray(0, half - this.headBytes);
      this.head.push(take);
      this.headBytes += take.length;
      rest = rest.subarray(take.length);
    }
    if (rest.length === 0) return;
    this.tail.push(rest);
    this.tailBytes += rest.length;
    // Drop whole chunks from the front of the tail while it stays over half.
    while (this.tail.length > 1 && this.tailBytes - this.tail[0]!.length >= this.maxBytes - half) {
      this.tailBytes -= this.tail.shift()!.length;
    }
  }

  /** Bytes written in all. */
  get totalBytes(): number {
    return this.total;
  }

  text(): string {
    const keptTail = Buffer.concat(this.tail);
    const room = this.maxBytes - this.headBytes;
    const tail = keptTail.length > room ? keptTail.subarray(keptTail.length - room) : keptTail;
    const omitted = this.total - this.headBytes - tail.length;
    const head = Buffer.concat(this.head);
    // Decode in one piece when nothing was dropped, so a character split across the head/tail
    // boundary survives.
    if (omitted <= 0) return Buffer.concat([head, tail]).toString('utf8');
    return `${head.toString('utf8')}\n[... ${omitted} bytes omitted by horde ...]\n${tail.toString('utf8')}`;
  }
}
