/**
 * The devnet dashboard in a real browser, as a new user opens it: `horde devnet --dashboard` prints
 * a URL; Debian's chromium (driven by playwright-core) loads it and sees every miner, jobs moving
 * through their stages (live updates over server-sent events), and the weights chart once the first
 * commit has been revealed, the receipts the validator transferred from each miner, a job's page
 * with its status history (from the validator's own dashboard) and the receipts a miner served.
 * Screenshots are saved under .tmp/ for people to look at.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, exitOf, ROOT, SHORT_DEVNET, tempDirs, waitForOutput } from '../support/devnet.js';
import { requireBuiltCli } from '../support/miner-harness.js';

/** Debian's package (`apt-get install chromium`; .ci/run installs it). */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(ROOT, '.tmp', 'devnet-dashboard.png');

const dirs = tempDirs();
afterAll(() => dirs.cleanup());

describe('devnet dashboard in a browser', () => {
  it('shows the miners, live jobs and the weights chart after the first reveal', async () => {
    requireBuiltCli();
    // A missing browser is a failure, not a skip: CI installs it.
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
    const dataDir = join(dirs.make('horde-devnet-dashboard-'), 'run');
    const child = spawn(
      process.execPath,
      [CLI, 'devnet', '--dashboard', '--cycles', '3', '--miners', '2', '--executors', '2', '--data-dir', dataDir, ...SHORT_DEVNET],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = exitOf(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const userDataDir = mkdtempSync(join(tmpdir(), 'horde-chromium-'));
    let browser: BrowserContext | null = null;
    let page: Page | null = null;
    try {
      await waitForOutput(child, /Dashboard: http:\/\/127\.0\.0\.1:\d+\//, 60_000);
      const url = /Dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)![1]!;
      browser = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
        viewport: { width: 1440, height: 1800 },
      });
      page = browser.pages()[0] ?? (await browser.newPage());
      await page.goto(url);
      expect(await page.locator('h1').innerText()).toBe('horde devnet');

      // Every miner, with its axon once announced.
      await page.locator('#section-miners tbody tr', { hasText: '127.0.0.1:' }).nth(1).waitFor({ timeout: 60_000 });
      expect(await page.locator('#section-miners tbody tr').allInnerTexts()).toEqual([
        expect.stringMatching(/^miner-1\s+honest/),
        expect.stringMatching(/^miner-2\s+honest/),
      ]);
      // Live updates arrive over server-sent events: the header says so.
      await page.locator('#live.on').waitFor({ timeout: 10_000 });

      // A job in progress during the first batch, with its stages timed.
      const liveRow = page.locator('#section-live-jobs tbody tr').first();
      await liveRow.waitFor({ timeout: 60_000 });
      expect(await page.locator('#section-live-jobs').innerText()).toMatch(/waiting_for_executor \d/);

      // After the first reveal: a line per miner in the weights chart, and correct answers counted.
      await waitForOutput(child, /revealed at block \d+/, 90_000).catch(() => undefined);
      expect(output).toMatch(/revealed at block \d+/);
      await page.locator('#section-weights svg.chart g.series').nth(1).waitFor({ timeout: 15_000 });
      expect(await page.locator('#section-weights').innerText()).toMatch(/Last put on chain: cycle \d+, committed/);
      await page.locator('#section-recent-jobs-wide tbody tr', { hasText: 'finished' }).first().waitFor({ timeout: 15_000 });
      expect(Number(await page.locator('.tile', { hasText: 'Correct answers' }).locator('.value').innerText())).toBeGreaterThan(0);

      // /metrics of the running validator (on its dashboard port) and of a miner.
      const validatorUrl = /\(validator: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)![1]!;
      const validatorMetrics = await (await fetch(new URL('metrics', validatorUrl))).text();
      expect(validatorMetrics).toMatch(/^horde_validator_jobs_total\{[^}]*status="completed"[^}]*\} [1-9]/m);
      expect(validatorMetrics).toMatch(/^horde_validator_weights_set_total\{[^}]*status="committed"[^}]*\} [1-9]/m);
      expect(validatorMetrics).toMatch(/^horde_chain_call_duration_seconds_count\{[^}]*method="submitWeights"/m);
      const minerUrl = (await page.locator('#section-miners tbody tr').first().locator('td').last().innerText()).trim();
      const minerMetrics = await (await fetch(new URL('metrics', minerUrl))).text();
      expect(minerMetrics).toMatch(/^horde_miner_job_stage_duration_seconds_count\{[^}]*stage="running"[^}]*\} [1-9]/m);
      expect(minerMetrics).toMatch(/^horde_miner_validator_connections\{role="miner"\} \d/m);

      // Receipt transfer: the validator pulled the miners' receipt pages; each endpoint has a row with receipts stored.
      const transferred = /^127\.0\.0\.1:\d+\s+5\w+…\w+\s+\d+\s+[1-9]\d*\s+0\s/;
      let receiptRows: string[] = [];
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 500))) {
        receiptRows = await page.locator('#section-receipts-wide tbody tr').allInnerTexts();
        if (receiptRows.length === 2 && receiptRows.every((row) => transferred.test(row))) break;
      }
      expect(receiptRows).toEqual([expect.stringMatching(transferred), expect.stringMatching(transferred)]);

      // The validator's own dashboard: a job's id opens its page with the status history.
      const validatorPage = await browser.newPage();
      await validatorPage.goto(validatorUrl);
      await validatorPage.locator('#section-jobs-wide tbody tr a').first().click();
      await validatorPage.locator('#section-history-wide tbody tr').first().waitFor({ timeout: 10_000 });
      expect(await validatorPage.locator('h1').innerText()).toMatch(/^Job [0-9a-f-]{36}$/);
      const history = await validatorPage.locator('#section-history-wide tbody tr td:nth-child(4)').allInnerTexts();
      expect(history[0]).toBe('sent');
      expect(history).toEqual(expect.arrayContaining(['accepted', 'executor_ready', 'job_sent']));
      expect(['completed', 'failed', 'horde_failed', 'rejected']).toContain(history.at(-1));
      mkdirSync(join(ROOT, '.tmp'), { recursive: true });
      await validatorPage.screenshot({ path: join(ROOT, '.tmp', 'validator-job-page.png'), fullPage: true });
      // The miner's own dashboard: the receipts it stored and the pages the validator fetched.
      await validatorPage.goto(minerUrl);
      await validatorPage.locator('#section-receipts-stored tbody tr').first().waitFor({ timeout: 10_000 });
      const servedFetches = await validatorPage.locator('#section-receipts-served tbody tr td:nth-child(4)').allInnerTexts();
      expect(servedFetches.some((n) => Number(n) > 0)).toBe(true);
      await validatorPage.close();

      // For the screenshot: the next cycle's weights make the chart a line (not asserted: timing).
      await page
        .locator('#section-weights svg.chart circle')
        .nth(3)
        .waitFor({ timeout: 30_000 })
        .catch(() => undefined);
      mkdirSync(join(ROOT, '.tmp'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(existsSync(SCREENSHOT)).toBe(true);
    } catch (error) {
      // What the page showed when it failed, for whoever reads the CI log.
      mkdirSync(join(ROOT, '.tmp'), { recursive: true });
      await page?.screenshot({ path: join(ROOT, '.tmp', 'devnet-dashboard-failure.png'), fullPage: true }).catch(() => undefined);
      throw new Error(`${(error as Error).message}\ndevnet output:\n${output}`, { cause: error });
    } finally {
      await browser?.close();
      rmSync(userDataDir, { recursive: true, force: true });
      if (child.exitCode === null) child.kill('SIGINT');
    }
    const { code, stderr } = await exited;
    expect(stderr).not.toMatch(/error/i);
    expect([0, 130]).toContain(code);
  }, 240_000);
});
