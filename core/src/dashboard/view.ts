/**
 * What a dashboard page shows, as data: each role builds one of these from its own state, and the
 * renderer turns it into HTML (the whole page on load, each section again for live updates). Roles
 * never write HTML themselves, so every page looks and escapes the same.
 */

/** How a value reads at a glance: green, red, amber or grey. */
export type Tone = 'ok' | 'bad' | 'warn' | 'muted';

/** A table cell: plain text, or text with a tone and a tooltip (e.g. a full hotkey behind a short one). */
export type Cell =
  string | number | null | { readonly text: string; readonly tone?: Tone; readonly title?: string; readonly href?: string };

/**
 * A link to a detail page of the same dashboard (`jobs/<uuid>`): relative, no scheme, no host.
 * The renderer drops any other href, so a value from a miner can never become a link elsewhere.
 */
export function isDashboardLink(href: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._~\-/]*$/.test(href) && !href.includes('//') && !href.split('/').includes('..');
}

/** A headline number at the top of the page. */
export interface Tile {
  readonly label: string;
  readonly value: string;
  readonly tone?: Tone;
  readonly hint?: string;
}

export interface TableSection {
  readonly kind: 'table';
  /** Stable id: live updates replace the section with this id. */
  readonly id: string;
  readonly title: string;
  readonly note?: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
  /** Shown instead of an empty table. */
  readonly empty: string;
  /** Span the whole page width (wide tables); also implied by an id ending in `-wide`. */
  readonly wide?: boolean;
}

export interface ChartSection {
  readonly kind: 'chart';
  readonly id: string;
  readonly title: string;
  readonly note?: string;
  /** An inline SVG made by `lineChartSvg`, or null with `empty` shown instead. */
  readonly svg: string | null;
  readonly empty: string;
}

export type Section = TableSection | ChartSection;

export interface DashboardPage {
  /** `horde miner`, `horde validator`, … */
  readonly title: string;
  /** What this process is (its hotkey, its network). */
  readonly subtitle: string;
  readonly tiles: readonly Tile[];
  readonly sections: readonly Section[];
}

/** Builds the page from the role's current state; called on every load and every refresh. */
export type PageSource = () => Promise<DashboardPage>;

/** `5GrwvaEF…NoHGKutQY` with the whole key as the tooltip. */
export function keyCell(key: string): Cell {
  return key.length > 20 ? { text: `${key.slice(0, 8)}…${key.slice(-6)}`, title: key } : key;
}

/** A job or batch status, coloured by what it means for the miner. */
export function statusCell(status: string): Cell {
  const tone: Tone | undefined =
    status === 'completed' ||
    status === 'finished' ||
    status === 'set' ||
    status === 'revealed' ||
    status === 'running' ||
    status === 'healthy'
      ? 'ok'
      : status === 'failed' || status === 'horde_failed' || status === 'dead' || status === 'refused'
        ? 'bad'
        : status === 'rejected' || status === 'committed' || status.startsWith('waiting')
          ? 'warn'
          : undefined;
  return tone ? { text: status, tone } : status;
}

/** `3.2 s`, `412 ms`, `2 min 5 s`. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '-';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1_000)} s`;
}

/** `12 s ago`, relative to `now`. */
export function formatAgo(at: number | null, now: number): string {
  if (at === null) return '-';
  return `${formatDuration(Math.max(0, now - at))} ago`;
}
