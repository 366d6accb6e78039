import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '@horde/core';
import { z } from '@horde/core';

/**
 * How fast the trusted miner's cards really are, per class, relative to the rate table: a factor
 * (measured rate / table rate) refined by every calibration job (`prepare`), kept in the plugin's
 * data directory so it survives restarts. Sizing multiplies the table's rates by it.
 */
export interface MeasuredClassRate {
  /** Measured rate / table rate, smoothed over the samples. */
  readonly factor: number;
  readonly samples: number;
  /** ms since epoch of the last sample. */
  readonly updatedAt: number;
}

const fileSchema = z.strictObject({
  format: z.literal('horde-hash-crack-rates/1'),
  classes: z.record(
    z.string(),
    z.strictObject({ factor: z.number().positive(), samples: z.number().int().positive(), updatedAt: z.number() }),
  ),
});

/** One sample may move the factor at most this far either way: a stalled or odd run cannot wreck the sizing. */
const SAMPLE_CLAMP = { low: 0.25, high: 4 };

export class MeasuredRates {
  private classes = new Map<string, MeasuredClassRate>();

  /** `file`: where they are kept (absent: in memory only); `weight`: the share of a new sample in the smoothed factor. */
  constructor(
    private readonly file: string | null,
    private readonly logger: Logger | null,
    private readonly weight = 0.3,
  ) {}

  /**
   * Reads the file. A missing file is a fresh start; an unreadable one is moved aside (kept, as
   * `<file>.corrupt-<time>`), logged, and the table's rates are used until new samples come.
   */
  async load(): Promise<void> {
    if (!this.file) return;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    let parsed: z.output<typeof fileSchema> | null = null;
    try {
      const result = fileSchema.safeParse(JSON.parse(text));
      if (result.success) parsed = result.data;
    } catch {
      parsed = null;
    }
    if (!parsed) {
      const aside = `${this.file}.corrupt-${Date.now()}`;
      await rename(this.file, aside);
      this.logger?.warn({ file: this.file, movedTo: aside }, 'measured hash rates unreadable; moved aside, sizing from the rate table');
      return;
    }
    this.classes = new Map(Object.entries(parsed.classes));
  }

  factor(classId: string): number {
    return this.classes.get(classId)?.factor ?? 1;
  }

  get(classId: string): MeasuredClassRate | undefined {
    return this.classes.get(classId);
  }

  /** Adds a sample (measured / table) for the class and saves. Returns the new smoothed factor. */
  async record(classId: string, sample: number, at: number): Promise<number> {
    const clamped = Math.min(SAMPLE_CLAMP.high, Math.max(SAMPLE_CLAMP.low, sample));
    const previous = this.classes.get(classId);
    const factor = previous ? previous.factor * (1 - this.weight) + clamped * this.weight : clamped;
    this.classes.set(classId, { factor, samples: (previous?.samples ?? 0) + 1, updatedAt: at });
    await this.save();
    return factor;
  }

  private async save(): Promise<void> {
    if (!this.file) return;
    await mkdir(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.tmp`;
    await writeFile(
      temporary,
      `${JSON.stringify({ format: 'horde-hash-crack-rates/1', classes: Object.fromEntries(this.classes) }, null, 2)}\n`,
    );
    // Atomic replace: a crash mid-write never leaves half a file.
    await rename(temporary, this.file);
  }
}
