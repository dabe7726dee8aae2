/**
 * A real browser for tests: Debian's Chromium (`/usr/bin/chromium`, never a downloaded build)
 * driven by playwright-core, headless, with a fresh profile and everything that phones home
 * turned off. A page opened here records its console errors (a CSP violation is one) and every
 * request it makes, so a test can check that a report fetches nothing.
 *
 * Browser tests skip with a printed reason when Chromium is missing, except under `CI=true`,
 * where `.ci/run` installs it and a missing browser fails them (as the broker tests do).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { isCi } from './brokers.js';

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** The flags every test browser runs with: headless, no sandbox (root in CI), no GPU, nothing fetched in the background. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'] as const;

/**
 * Why browser tests skip here, or undefined when they run. Under CI=true they always run (and
 * fail at launch when Chromium is missing): CI must really check the page.
 */
export function browserSkipReason(): string | undefined {
  if (existsSync(CHROMIUM_PATH) || isCi) return undefined;
  const reason = `Chromium not found at ${CHROMIUM_PATH} (apt-get install -y chromium)`;
  console.warn(`skipping: ${reason}`);
  return reason;
}

/** A page loaded from a file, with what it logged and fetched. */
export interface OpenedPage {
  readonly page: Page;
  /** Console errors and uncaught exceptions, in order. */
  readonly errors: readonly string[];
  /** Every URL the page requested other than its own file. */
  readonly requests: readonly string[];
}

/** A running browser. */
export interface TestBrowser {
  /** Opens a local file and waits for it to load (its scripts have run). */
  open(file: string): Promise<OpenedPage>;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh `--user-data-dir` (removed on close). */
export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH}${isCi ? ' (CI=true: browser tests must run; .ci/run installs it)' : ''}`);
  const profile = await mkdtemp(join(tmpdir(), 'ssekit-chromium-'));
  // A persistent context is how playwright takes a user data dir of our choosing (fresh, so no
  // earlier profile state can change what a page does).
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: { width: 1200, height: 900 },
  });
  return {
    async open(file) {
      const url = pathToFileURL(file).href;
      const page = await context.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
      page.on('request', (request) => {
        if (request.url() !== url) requests.push(request.url());
      });
      await page.goto(url, { waitUntil: 'load' });
      return { page, errors, requests };
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
