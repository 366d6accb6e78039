import { isDashboardLink, type Cell, type DashboardPage, type Section, type Tile } from './view.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function renderCell(cell: Cell): string {
  if (cell === null) return '<td class="muted">-</td>';
  if (typeof cell === 'string' || typeof cell === 'number') {
    const text = String(cell);
    // Long text (stage timings, failure messages) wraps; ids, keys and numbers stay on one line.
    return `<td${text.length > 40 ? ' class="wrap"' : ''}>${escapeHtml(text)}</td>`;
  }
  const title = cell.title ? ` title="${escapeHtml(cell.title)}"` : '';
  const tone = cell.tone ? `<span class="pill ${cell.tone}">${escapeHtml(cell.text)}</span>` : escapeHtml(cell.text);
  const body = cell.href !== undefined && isDashboardLink(cell.href) ? `<a href="${escapeHtml(cell.href)}">${tone}</a>` : tone;
  return `<td${title}>${body}</td>`;
}

export function renderTiles(tiles: readonly Tile[]): string {
  return tiles
    .map(
      (tile) =>
        `<div class="tile${tile.tone ? ` ${tile.tone}` : ''}"${tile.hint ? ` title="${escapeHtml(tile.hint)}"` : ''}><div class="label">${escapeHtml(tile.label)}</div><div class="value${tile.value.length > 14 ? ' long' : ''}">${escapeHtml(tile.value)}</div></div>`,
    )
    .join('');
}

/** The inside of one section's card (live updates replace exactly this). */
export function renderSectionBody(section: Section): string {
  const head = `<h2>${escapeHtml(section.title)}</h2>${section.note ? `<p class="note">${escapeHtml(section.note)}</p>` : ''}`;
  if (section.kind === 'chart') {
    return `${head}${section.svg ?? `<p class="empty">${escapeHtml(section.empty)}</p>`}`;
  }
  if (section.rows.length === 0) return `${head}<p class="empty">${escapeHtml(section.empty)}</p>`;
  const header = section.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const rows = section.rows.map((row) => `<tr>${row.map(renderCell).join('')}</tr>`).join('');
  return `${head}<div class="scroll"><table><thead><tr>${header}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** A section's card: charts and sections whose id ends in `-wide` span the whole width. */
function renderCard(section: Section): string {
  const wide = section.kind === 'chart' || section.id.endsWith('-wide') || (section.kind === 'table' && section.wide === true);
  return `<section class="card${wide ? ' wide' : ''}" id="section-${escapeHtml(section.id)}" data-section="${escapeHtml(section.id)}">${renderSectionBody(section)}</section>`;
}

/**
 * What the server sends on each live update: the tiles and every section, already rendered, and
 * the section ids in page order. When a section comes or goes (the devnet's validator starts), the
 * page rebuilds its grid from `cards`; otherwise it swaps each section's inside.
 */
export interface PageFragments {
  readonly tiles: string;
  readonly order: readonly string[];
  readonly sections: Record<string, string>;
  readonly cards: string;
  readonly generatedAt: number;
}

export function renderFragments(page: DashboardPage, now: number): PageFragments {
  return {
    tiles: renderTiles(page.tiles),
    order: page.sections.map((s) => s.id),
    sections: Object.fromEntries(page.sections.map((s) => [s.id, renderSectionBody(s)])),
    cards: page.sections.map(renderCard).join(''),
    generatedAt: now,
  };
}

const STYLE = `
:root{--bg:#f5f6f8;--card:#fff;--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--ok:#15803d;--okbg:#dcfce7;--bad:#b91c1c;--badbg:#fee2e2;--warn:#b45309;--warnbg:#fef3c7;--accent:#1d4ed8}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Ubuntu,sans-serif;background:var(--bg);color:var(--ink)}
header{display:flex;align-items:center;gap:16px;padding:14px 24px;background:#0f172a;color:#e2e8f0}
header h1{margin:0;font-size:18px;font-weight:600;color:#fff}header .sub{color:#94a3b8;font-size:13px;overflow-wrap:anywhere}
header .live{margin-left:auto;display:flex;align-items:center;gap:8px;font-size:12px;color:#94a3b8;white-space:nowrap}
header .dot{width:9px;height:9px;border-radius:50%;background:#64748b}header .live.on .dot{background:#22c55e;box-shadow:0 0 0 3px rgba(34,197,94,.25)}
header .live.off .dot{background:#ef4444}
main{padding:20px 24px;max-width:1500px;margin:0 auto}
#tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:12px;margin-bottom:18px;align-items:start}
.tile{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.tile .label{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}.tile .value{font-size:22px;font-weight:600;margin-top:2px;overflow-wrap:anywhere}
.tile .value.long{font-size:15px;line-height:1.35;padding-top:4px}.tile.ok .value{color:var(--ok)}.tile.bad .value{color:var(--bad)}.tile.warn .value{color:var(--warn)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:16px}
section.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;min-width:0}
section.card.wide{grid-column:1/-1}
h2{font-size:15px;margin:0 0 8px}.note{margin:-4px 0 10px;color:var(--muted);font-size:12px}.empty{color:var(--muted);font-style:italic;margin:8px 0}
.scroll{overflow-x:auto;max-height:420px;overflow-y:auto}
table{border-collapse:collapse;width:100%;font-size:13px}th{position:sticky;top:0;background:#f9fafb;text-align:left;font-weight:600;color:#374151;border-bottom:1px solid var(--line);padding:6px 8px;white-space:nowrap}
td{border-bottom:1px solid #f1f5f9;padding:6px 8px;vertical-align:top;font-variant-numeric:tabular-nums;white-space:nowrap}td.wrap{white-space:normal;min-width:220px}tr:hover td{background:#f8fafc}td.muted{color:var(--muted)}
.pill{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:500;white-space:nowrap}
.pill.ok{background:var(--okbg);color:var(--ok)}.pill.bad{background:var(--badbg);color:var(--bad)}.pill.warn{background:var(--warnbg);color:var(--warn)}.pill.muted{background:#f3f4f6;color:var(--muted)}
svg.chart{display:block;width:100%;max-width:1100px;height:auto;margin:0 auto}
footer{color:var(--muted);font-size:12px;padding:8px 24px 24px;text-align:center}
td a{color:var(--accent);text-decoration:none}td a:hover{text-decoration:underline}header a.back{color:#e2e8f0;text-decoration:none}
`;

/**
 * Live updates without a framework: one EventSource; each message carries the rendered tiles and
 * sections, swapped in by id. When the stream drops, the browser reconnects by itself.
 */
const SCRIPT = `
(function(){
  var live=document.getElementById('live'),label=live.querySelector('span:last-child'),stamp=document.getElementById('stamp');
  var source=new EventSource('events');
  source.addEventListener('page',function(e){
    var data=JSON.parse(e.data);
    document.getElementById('tiles').innerHTML=data.tiles;
    var grid=document.getElementById('grid');
    var shown=Array.prototype.map.call(grid.children,function(el){return el.getAttribute('data-section');}).join(',');
    if(shown!==data.order.join(','))grid.innerHTML=data.cards;
    else Object.keys(data.sections).forEach(function(id){var el=document.getElementById('section-'+id);if(el)el.innerHTML=data.sections[id];});
    stamp.textContent=new Date(data.generatedAt).toLocaleTimeString();
    live.className='live on';label.textContent='live';
  });
  source.onerror=function(){live.className='live off';label.textContent='reconnecting';};
})();
`;

export interface RenderOptions {
  /**
   * Where the dashboard's root is, relative to this page: a detail page (`jobs/<uuid>`) is a
   * snapshot with a link back (`../`) and no live updates. Default: this page is the root, live.
   */
  readonly root?: string;
}

/** The whole page: works without JavaScript (a reload shows the latest state), live with it. */
export function renderPage(page: DashboardPage, now: number, options: RenderOptions = {}): string {
  const sections = page.sections.map(renderCard).join('');
  const root = options.root;
  if (root !== undefined) {
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(page.title)} · horde dashboard</title><style>${STYLE}</style></head>
<body><header><h1>${escapeHtml(page.title)}</h1><div class="sub">${escapeHtml(page.subtitle)}</div><div class="live"><a class="back" href="${escapeHtml(root)}">← dashboard</a></div></header>
<main><div id="tiles">${renderTiles(page.tiles)}</div><div class="grid" id="grid">${sections}</div></main>
<footer>horde · read-only dashboard · as of <span id="stamp">${escapeHtml(new Date(now).toISOString().slice(11, 19))} UTC</span> · <a href="${escapeHtml(root)}">back</a></footer>
</body></html>`;
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(page.title)} · horde dashboard</title><style>${STYLE}</style></head>
<body><header><h1>${escapeHtml(page.title)}</h1><div class="sub">${escapeHtml(page.subtitle)}</div><div class="live" id="live"><span class="dot"></span><span>connecting</span></div></header>
<main><div id="tiles">${renderTiles(page.tiles)}</div><div class="grid" id="grid">${sections}</div></main>
<footer>horde · read-only dashboard · updated <span id="stamp">${escapeHtml(new Date(now).toISOString().slice(11, 19))} UTC</span> · <a href="metrics">/metrics</a></footer>
<script>${SCRIPT}</script></body></html>`;
}
