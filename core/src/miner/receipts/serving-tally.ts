/**
 * What the receipt pages served since the miner started, for its dashboard: per page and per
 * client address, how many fetches, which answers (200 whole, 206 new lines, 416 nothing new, 404)
 * and bytes, and when. Counters only, in memory, and bounded: the pages a validator can ask for
 * are at most the retention's worth, but a client may ask for any number, so both maps keep only
 * the most recently served entries.
 */

/** Pages tracked (2 days of 5-minute pages is 576). */
const MAX_PAGES = 1_000;
/** Client addresses tracked. */
const MAX_CLIENTS = 256;

export type ServedAnswer = 'full' | 'gzip' | 'partial' | 'nothing_new' | 'not_found';

export interface ServedRequest {
  readonly page: number;
  readonly answer: ServedAnswer;
  /** Bytes of the body sent (compressed for gzip). */
  readonly bytes: number;
  /** The peer's address. */
  readonly client: string;
  readonly at: number;
}

export interface PageServing {
  readonly page: number;
  readonly fetches: number;
  readonly byAnswer: Readonly<Partial<Record<ServedAnswer, number>>>;
  readonly bytes: number;
  readonly lastServedAt: number;
  readonly lastClient: string;
}

export interface ClientServing {
  readonly client: string;
  readonly fetches: number;
  readonly bytes: number;
  readonly lastServedAt: number;
}

interface MutablePage {
  page: number;
  fetches: number;
  byAnswer: Partial<Record<ServedAnswer, number>>;
  bytes: number;
  lastServedAt: number;
  lastClient: string;
}

/** Drops the least recently served entries beyond `max` (Map keeps insertion order; entries are re-inserted on use). */
function bound<K, V>(map: Map<K, V>, max: number): void {
  while (map.size > max) map.delete(map.keys().next().value as K);
}

export class ReceiptServingTally {
  private readonly pages = new Map<number, MutablePage>();
  private readonly clients = new Map<string, ClientServing>();
  private total = 0;

  served(request: ServedRequest): void {
    this.total += 1;
    const page = this.pages.get(request.page) ?? {
      page: request.page,
      fetches: 0,
      byAnswer: {},
      bytes: 0,
      lastServedAt: 0,
      lastClient: '',
    };
    page.fetches += 1;
    page.byAnswer[request.answer] = (page.byAnswer[request.answer] ?? 0) + 1;
    page.bytes += request.bytes;
    page.lastServedAt = request.at;
    page.lastClient = request.client;
    this.pages.delete(request.page);
    this.pages.set(request.page, page);
    bound(this.pages, MAX_PAGES);
    const client = this.clients.get(request.client);
    this.clients.delete(request.client);
    this.clients.set(request.client, {
      client: request.client,
      fetches: (client?.fetches ?? 0) + 1,
      bytes: (client?.bytes ?? 0) + request.bytes,
      lastServedAt: request.at,
    });
    bound(this.clients, MAX_CLIENTS);
  }

  /** Fetches served since start (all pages, every answer). */
  get fetches(): number {
    return this.total;
  }

  /** Pages, newest page first. */
  byPage(): PageServing[] {
    return [...this.pages.values()].sort((a, b) => b.page - a.page).map((p) => ({ ...p, byAnswer: { ...p.byAnswer } }));
  }

  /** Clients, the one served last first. */
  byClient(): ClientServing[] {
    return [...this.clients.values()].sort((a, b) => b.lastServedAt - a.lastServedAt);
  }
}
