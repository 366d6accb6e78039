import type { VastClassConfig } from './config.js';
import type { OfferQuery, VastOffer } from './vast-api.js';

/** How many offers one search returns: the cheapest few are enough to survive a race for one. */
const SEARCH_LIMIT = 10;

/** vast's query spells GPU models with spaces; its CLI accepts `RTX_4090` and sends `RTX 4090`. */
export function gpuModelName(name: string): string {
  return name.replaceAll('_', ' ');
}

/**
 * The search for offers that may serve a class, cheapest first: the CLI's defaults (verified, not
 * external, rentable, not rented), the class's filters, on-demand pricing, with the disk the
 * instance will allocate.
 */
export function offerQuery(filter: VastClassConfig, diskGb: number): OfferQuery {
  const filters: Record<string, Record<string, unknown>> = {
    verified: { eq: filter.verified },
    external: { eq: filter.external },
    rentable: { eq: true },
    rented: { eq: false },
  };
  if (filter.gpuName !== undefined) {
    filters.gpu_name = typeof filter.gpuName === 'string' ? { eq: gpuModelName(filter.gpuName) } : { in: filter.gpuName.map(gpuModelName) };
  }
  if (filter.numGpus !== undefined) filters.num_gpus = { eq: filter.numGpus };
  // vast stores gpu_ram in MB; the CLI multiplies GB by 1000.
  if (filter.minGpuRamGb !== undefined) filters.gpu_ram = { gte: filter.minGpuRamGb * 1000 };
  if (filter.maxDphTotal !== undefined) filters.dph_total = { lte: filter.maxDphTotal };
  if (filter.minReliability !== undefined) filters.reliability2 = { gte: filter.minReliability };
  Object.assign(filters, filter.extraFilters);
  return { filters, order: [['dph_total', 'asc']], type: 'on-demand', limit: SEARCH_LIMIT, allocatedStorage: diskGb };
}

/**
 * The offers to try, cheapest first. The marketplace filters already; the limits that cost money
 * or capability are checked again here, so a lax server can never get us a wrong or dearer machine.
 */
export function offersToTry(offers: readonly VastOffer[], filter: VastClassConfig): VastOffer[] {
  const names =
    filter.gpuName === undefined
      ? null
      : new Set((typeof filter.gpuName === 'string' ? [filter.gpuName] : filter.gpuName).map(gpuModelName));
  return offers
    .filter((offer) => filter.maxDphTotal === undefined || offer.dph_total <= filter.maxDphTotal)
    .filter((offer) => names === null || (offer.gpu_name != null && names.has(offer.gpu_name)))
    .filter((offer) => filter.numGpus === undefined || offer.num_gpus === filter.numGpus)
    .filter((offer) => filter.minGpuRamGb === undefined || (offer.gpu_ram ?? 0) >= filter.minGpuRamGb * 1000)
    .filter((offer) => filter.minReliability === undefined || (offer.reliability2 ?? 0) >= filter.minReliability)
    .sort((a, b) => a.dph_total - b.dph_total);
}

/** The class's filters in words, for "no offer matches" errors. */
export function describeFilter(filter: VastClassConfig): string {
  const parts: string[] = [];
  if (filter.gpuName !== undefined) parts.push(`gpu ${[filter.gpuName].flat().join(' or ')}`);
  if (filter.numGpus !== undefined) parts.push(`${filter.numGpus} GPU(s)`);
  if (filter.minGpuRamGb !== undefined) parts.push(`≥ ${filter.minGpuRamGb} GB per GPU`);
  if (filter.maxDphTotal !== undefined) parts.push(`≤ $${filter.maxDphTotal}/h`);
  if (filter.minReliability !== undefined) parts.push(`reliability ≥ ${filter.minReliability}`);
  if (Object.keys(filter.extraFilters).length > 0) parts.push(`extra ${JSON.stringify(filter.extraFilters)}`);
  parts.push(filter.verified ? 'verified' : 'verified or not');
  return parts.join(', ');
}
