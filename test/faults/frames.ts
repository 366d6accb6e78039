/**
 * Bad frames for the fault suite, from a seeded generator (a failure can be replayed): none of
 * them is a valid protocol message in either direction, and none is the keep-alive `PING`.
 */
import { encodeMessage } from '../../core/src/protocol/codec.js';
import { SAMPLE_MESSAGES } from '../../core/src/protocol/__fixtures__/sample-messages.js';

export type BadFrameKind = 'truncated' | 'garbage' | 'random-bytes' | 'deeply-nested' | 'wrong-shape' | 'large' | 'oversized';

export interface BadFrame {
  readonly kind: BadFrameKind;
  readonly data: string | Buffer;
  readonly binary: boolean;
}

/** mulberry32: small, fast, seeded. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WRONG_SHAPES: readonly string[] = [
  '{}',
  '[]',
  'null',
  '42',
  '"V0JobRequest"',
  '{"message_type":"V0NoSuchRequest"}',
  '{"message_type":null}',
  '{"message_type":12}',
  '{"message_type":"V0InitialJobRequest"}',
  '{"message_type":"V0JobRequest","job_uuid":7}',
  '{"message_type":"ValidatorAuthForMiner","validator_hotkey":[],"miner_hotkey":{},"timestamp":"soon","signature":false}',
  '{"message_type":"V0JobAcceptedReceiptRequest","payload":{"receipt_type":"JobAcceptedReceipt"},"signature":"0x"}',
  '{"message_type":"V0JobFinishedRequest","job_uuid":"x","docker_process_stdout":1e999}',
  '{"message_type":"V0ExecutorReadyRequest","job_uuid":{"$gt":""}}',
  '{"__proto__":{"polluted":true},"message_type":"V0JobRequest"}',
  '{"message_type":"V0MainHotkeyMessage","main_hotkey":"\\ud800"',
];

/**
 * `n` bad frames, made one at a time (a test that holds none of them measures only the miner's
 * memory); the last two are oversized (over the 50 MiB frame cap), about 20 are 1 MiB.
 */
export function* badFrames(n: number, seed: number): Generator<BadFrame> {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const samples = SAMPLE_MESSAGES.map((s) => encodeMessage(s.message));
  const OVERSIZED = 2;
  for (let i = 0; i < n - OVERSIZED; i++) {
    const roll = random();
    if (roll < 0.002) {
      // Within the frame cap: parsed, refused, released.
      yield { kind: 'large', data: `{"message_type":"V0JobRequest","job_uuid":"${'x'.repeat(1024 * 1024)}"}`, binary: false };
    } else if (roll < 0.3) {
      const text = pick(samples);
      yield { kind: 'truncated', data: text.slice(0, 1 + Math.floor(random() * (text.length - 2))), binary: false };
    } else if (roll < 0.45) {
      const length = 1 + Math.floor(random() * 300);
      let text = '';
      for (let j = 0; j < length; j++) text += String.fromCharCode(33 + Math.floor(random() * 94));
      yield { kind: 'garbage', data: text === 'PING' ? `${text}!` : text, binary: false };
    } else if (roll < 0.6) {
      const bytes = Buffer.alloc(1 + Math.floor(random() * 512));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
      yield { kind: 'random-bytes', data: bytes, binary: true };
    } else if (roll < 0.7) {
      const depth = 1_000 + Math.floor(random() * 99_000);
      const inner = random() < 0.5 ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      yield { kind: 'deeply-nested', data: `{"message_type":"V0JobRequest","job_uuid":${inner}}`, binary: false };
    } else {
      yield { kind: 'wrong-shape', data: pick(WRONG_SHAPES), binary: random() < 0.2 };
    }
  }
  for (let i = 0; i < OVERSIZED; i++) yield { kind: 'oversized', data: Buffer.alloc(50 * 1024 * 1024 + 1, 0x7b), binary: true };
}

/** The next `count` frames of `frames`. */
export function take(frames: Iterator<BadFrame>, count: number): BadFrame[] {
  const out: BadFrame[] = [];
  for (let i = 0; i < count; i++) {
    const next = frames.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

/** The value of one series in a Prometheus text exposition (0 when absent). */
export function metricValue(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[3] ?? '').split(',').filter(Boolean);
    if (wanted.every((w) => have.includes(w)) && have.length === wanted.length) return Number(match[4]);
  }
  return 0;
}
