/**
 * `ssekit check <contract.yaml>`: verify an SSE backend against its contract and print PASS /
 * FAIL / SKIP per check with its evidence; exit 99 when a check fails, so CI can gate on it.
 * The flags; `check-action.ts` the rest (loaded only when the command runs).
 */
import type { Command } from 'commander';
import type { RunCommand } from '../context.js';
import { addAuthFlags, authFlagsOf } from '../flags/auth.js';
import { addHttpFlags, collect } from '../flags/http.js';
import type { CheckFlags } from './check-action.js';

/** Registers `check`. */
export function registerCheckCommand(program: Command, run: RunCommand): void {
  const command = program
    .command('check')
    .description("verify an SSE backend against a contract (contracts/*.yaml): headers, auth, heartbeats, payloads, resume, limits, latency, server figures")
    .argument('<contract>', 'contract file, YAML or JSON (contracts/admin-orders.yaml, ...)')
    .option('--target <url>', "backend base URL (overrides the contract's target)");
  addHttpFlags(command);
  addAuthFlags(command);
  // The contract names each check's role and every token gets its own user: --role and --sub
  // are refused (with a hint) rather than offered.
  for (const option of command.options) if (option.long === '--role' || option.long === '--sub') option.hideHelp();
  command
    .option('--only <check>', 'run only this check (a name in the contract, or a kind); repeatable', collect)
    .option('--heartbeat-interval <duration>', "the backend's heartbeat interval, when it is not the contract's (e.g. 5s)")
    .option('--heartbeat-tolerance <duration>', 'how far a heartbeat may be off its interval')
    .option('--heartbeat-observe <duration>', 'how long heartbeats are watched (default: 3 intervals + the tolerance)')
    .option('--latency-target <duration>', "publish → delivery target, when it is not the contract's 500ms")
    .option('--inactivity-timeout <duration>', "the backend's inactivity timeout, when it is not the contract's (graceful-end)")
    .option('--max-check-time <duration>', 'skip a check that would take longer than this', '2m')
    .option('--json', 'print the result as JSON instead of lines')
    .option('--junit <file>', 'write a JUnit XML report (a test case per check)')
    .option('--summary-md <file>', 'append a Markdown summary (e.g. $GITHUB_STEP_SUMMARY)')
    .option('--cites', 'show the CONTRACTS.md line each check encodes')
    .addHelpText(
      'after',
      `
Tokens are minted per check from the contract's identities (roles, claims), one fresh user
each, with --jwt-secret or --jwt-key (--claims adds claims to every token). Durations take a
unit (500ms, 30s, 2m). Exit 0 when every check passes or is skipped, 99 when one fails, 2 for
a bad contract or flag, 3 when the target cannot be reached.

Examples:
  $ ssekit check contracts/admin-orders.yaml --target http://127.0.0.1:8787 --jwt-secret ssekit-dev-secret-change-me
  $ ssekit check contracts/gateway.yaml --target "$GW" --jwt-key key.pem --only resume --only stream-limit
  $ ssekit check contracts/salon.yaml --heartbeat-interval 5s --junit check.xml --summary-md "$GITHUB_STEP_SUMMARY"`,
    )
    .action((file: string, flags: CheckFlags, self: Command) => run(async (ctx) => (await import('./check-action.js')).check(file, authFlagsOf(flags, self), ctx)));
}
