import { describe, expect, it } from 'vitest';
import { vastClassSchema } from './config.js';
import { describeFilter, offerQuery, offersToTry } from './offer-query.js';
import type { VastOffer } from './vast-api.js';

const klass = (input: Record<string, unknown>) => vastClassSchema.parse({ maxInstances: 1, ...input });
const offer = (id: number, fields: Partial<VastOffer>): VastOffer => ({
  id,
  dph_total: 1,
  gpu_name: 'RTX 4090',
  num_gpus: 1,
  gpu_ram: 24_564,
  reliability2: 0.99,
  ...fields,
});

describe('offerQuery', () => {
  it("starts from the vast CLI's defaults and asks for the cheapest on-demand offers first", () => {
    expect(offerQuery(klass({}), 40)).toEqual({
      filters: { verified: { eq: true }, external: { eq: false }, rentable: { eq: true }, rented: { eq: false } },
      order: [['dph_total', 'asc']],
      type: 'on-demand',
      limit: 10,
      allocatedStorage: 40,
    });
  });

  it('maps the class filters to vast fields and units (GPU names with spaces, GPU RAM in MB)', () => {
    const query = offerQuery(
      klass({
        gpuName: ['RTX_4090', 'RTX 3090'],
        numGpus: 2,
        minGpuRamGb: 24,
        maxDphTotal: 0.8,
        minReliability: 0.95,
        verified: false,
        extraFilters: { cuda_max_good: { gte: 12.1 } },
      }),
      10,
    );
    expect(query.filters).toEqual({
      verified: { eq: false },
      external: { eq: false },
      rentable: { eq: true },
      rented: { eq: false },
      gpu_name: { in: ['RTX 4090', 'RTX 3090'] },
      num_gpus: { eq: 2 },
      gpu_ram: { gte: 24_000 },
      dph_total: { lte: 0.8 },
      reliability2: { gte: 0.95 },
      cuda_max_good: { gte: 12.1 },
    });
  });
});

describe('offersToTry', () => {
  it('never picks an offer that breaks the class limits, even if the marketplace returns it, and sorts by price', () => {
    const filter = klass({ gpuName: 'RTX_4090', numGpus: 1, minGpuRamGb: 24, maxDphTotal: 0.5, minReliability: 0.9 });
    const offers = [
      offer(1, { dph_total: 0.45 }),
      offer(2, { dph_total: 0.6 }), // too dear
      offer(3, { gpu_name: 'RTX 3090', dph_total: 0.1 }), // wrong GPU
      offer(4, { num_gpus: 2, dph_total: 0.2 }), // wrong count
      offer(5, { gpu_ram: 12_288, dph_total: 0.2 }), // too little memory
      offer(6, { reliability2: 0.5, dph_total: 0.2 }), // unreliable
      offer(7, { dph_total: 0.3 }),
    ];
    expect(offersToTry(offers, filter).map((o) => o.id)).toEqual([7, 1]);
  });

  it('describes the filters for error messages', () => {
    expect(describeFilter(klass({ gpuName: ['A', 'B'], maxDphTotal: 1 }))).toBe('gpu A or B, ≤ $1/h, verified');
  });
});
