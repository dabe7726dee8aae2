/**
 * Contract files → plans (issue 17): the four seed contracts are valid and every check cites a
 * line that really is in ../shared/CONTRACTS.md; a broken contract is one error naming every
 * problem; flags override the contract's timing.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildCheckPlan, readContractFile } from '../../src/check/contract.js';
import type { CheckOverrides, HeartbeatCheck } from '../../src/check/plan.js';
import { UsageError } from '../../src/core/errors.js';

const CONTRACTS_DIR = fileURLToPath(new URL('../../contracts/', import.meta.url));
const CONTRACTS_MD = fileURLToPath(new URL('../../../shared/CONTRACTS.md', import.meta.url));
const BROKEN = fileURLToPath(new URL('../fixtures/check/broken-contract.yaml', import.meta.url));
const AUTH: CheckOverrides = { auth: { jwtSecret: 'test-secret' } };

const contractFiles = readdirSync(CONTRACTS_DIR).filter((f) => f.endsWith('.yaml'));

async function planOf(file: string, overrides: CheckOverrides = AUTH) {
  const path = file.startsWith('/') ? file : `${CONTRACTS_DIR}${file}`;
  return buildCheckPlan(await readContractFile(path), overrides, path);
}

/** The text of a CONTRACTS.md section (`§3` → `## 3.`; `What follows`), lines joined with spaces. */
function sectionText(markdown: string, cite: string): { section: string; quote: string } | undefined {
  const numbered = /^§(\d+) (.+)$/.exec(cite);
  const heading = numbered !== null ? `## ${numbered[1]}.` : cite.startsWith('What follows: ') ? '## What follows' : undefined;
  if (heading === undefined) return undefined;
  const start = markdown.indexOf(heading);
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end === -1 ? undefined : end).replace(/\s+/g, ' ');
  return { section, quote: (numbered?.[2] ?? cite.slice('What follows: '.length)).replace(/^- /, '').replace(/\s+/g, ' ') };
}

describe('seed contracts', () => {
  it('are the four seed systems', () => {
    expect(contractFiles.sort()).toEqual(['admin-orders.yaml', 'gateway.yaml', 'salon.yaml', 'store.yaml']);
  });

  it.each(contractFiles)('%s builds a plan, and every check cites a line of its CONTRACTS.md section', async (file) => {
    const plan = await planOf(file);
    expect(plan.checks.length).toBeGreaterThanOrEqual(6);
    if (!existsSync(CONTRACTS_MD)) {
      console.warn(`skipping the citation part: ${CONTRACTS_MD} is not here`);
      return;
    }
    const markdown = readFileSync(CONTRACTS_MD, 'utf8');
    for (const check of plan.checks) {
      const found = sectionText(markdown, check.cites);
      expect(found, `${file} ${check.name}: cites must start with §N or 'What follows: '`).toBeDefined();
      expect(found?.section, `${file} ${check.name} cites ${check.cites}`).toContain(found?.quote);
    }
  });

  it('takes the timing a backend was configured with from flags (a 30 s keepalive checked at 1 s)', async () => {
    const plan = await planOf('admin-orders.yaml', { ...AUTH, heartbeatIntervalMs: 1000 });
    const heartbeat = plan.checks.find((c): c is HeartbeatCheck => c.kind === 'heartbeat');
    expect(heartbeat).toMatchObject({ intervalMs: 1000, toleranceMs: 1000, observeMs: 4000 });
    const contractTiming = (await planOf('admin-orders.yaml')).checks.find((c): c is HeartbeatCheck => c.kind === 'heartbeat');
    expect(contractTiming).toMatchObject({ intervalMs: 30_000, observeMs: 91_000 });
  });

  it('runs only what --only names (a check name or a kind), and refuses a name that is not there', async () => {
    expect((await planOf('gateway.yaml', { ...AUTH, only: ['events', 'resume'] })).checks.map((c) => c.name)).toEqual(['deals-events', 'tasks-events', 'notifications-events', 'payments-events', 'resume']);
    await expect(planOf('gateway.yaml', { ...AUTH, only: ['resum'] })).rejects.toThrow(/--only resum: no such check \(checks: headers, auth, heartbeat, deals-events/);
  });

  it('needs credentials to mint its identities', async () => {
    await expect(planOf('salon.yaml', {})).rejects.toThrow(/the checks act as the contract's identities \(admin, admin-without-salon, customer, superadmin\): give --jwt-secret/);
  });
});

describe('a broken contract', () => {
  it('is one usage error naming every problem with its field', async () => {
    const error = await planOf(BROKEN).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    const lines = (error as UsageError).message.split('\n').map((l) => l.trim());
    expect(lines[0]).toMatch(/^\d+ problems in broken-contract\.yaml:$/);
    expect(lines).toEqual(
      expect.arrayContaining([
        'target is required (or give --target)',
        'checks.heartbeat.interval must be a duration with a unit, such as 500ms, 30s or 2m (got 30)',
        'checks.auth.cites is required',
        'checks.auth.cases[0].token must be one of none, valid, expired (got "nobody")',
        "checks.events.produce.request must be '<METHOD> <path>', such as 'POST /orders' (got \"SEND /orders\")",
        expect.stringMatching(/^checks\.events\.schemas\.order\.created is not a valid JSON Schema: strict mode: unknown keyword: "requird"/),
        expect.stringMatching(/^checks\.keepalive is not a check kind \(kinds: headers, auth, heartbeat/),
        "checks.stream-limit.as names identity 'robot', which is not in identities",
        'checks.stream-limit.max is required',
      ]),
    );
  });
});
