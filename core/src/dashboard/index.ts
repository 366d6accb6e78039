// The read-only operator dashboard every role can serve (see server.ts), and the page model roles fill.
export { lineChartSvg, type ChartSeries, type LineChartOptions } from './chart.js';
export { DashboardListenError } from './errors.js';
export { escapeHtml, renderPage, renderFragments, type PageFragments } from './render.js';
export { startDashboardServer, type DashboardServer, type DashboardServerOptions } from './server.js';
export {
  formatAgo,
  formatDuration,
  keyCell,
  statusCell,
  type Cell,
  type ChartSection,
  type DashboardPage,
  type PageSource,
  type Section,
  type TableSection,
  type Tile,
  type Tone,
} from './view.js';
