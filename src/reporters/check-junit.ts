/**
 * `check --junit`: a JUnit XML suite per contract, a test case per check (a FAIL carries its
 * evidence as `<failure>`, a SKIP as `<skipped>`), and an `<error>` case when the run was
 * interrupted, so CI that reads only JUnit never records a pass for a run that did not finish.
 */
import type { CheckResult, CheckRunResult } from '../check/result.js';
import { xml as xmlText } from './ci.js';
import { cleanLine } from './check-text.js';

/** Evidence as XML text: one clean line (escaped controls, redacted), then XML-escaped. */
function xml(text: string): string {
  return xmlText(cleanLine(text));
}

function testCase(classname: string, check: CheckResult): string {
  const open = `    <testcase classname="${classname}" name="${xml(check.name)}" time="${(check.durationMs / 1000).toFixed(3)}"`;
  const body = [check.evidence, ...(check.details ?? []), `cites ${check.cites}`].map(xml).join('\n');
  if (check.status === 'pass') return `${open}>\n      <system-out>${body}</system-out>\n    </testcase>`;
  if (check.status === 'skip') return `${open}>\n      <skipped message="${xml(check.evidence)}"/>\n    </testcase>`;
  return `${open}>\n      <failure message="${xml(check.evidence)}">${body}</failure>\n    </testcase>`;
}

/** The JUnit XML of a run. */
export function renderCheckJunit(result: CheckRunResult): string {
  const classname = `ssekit.check.${xml(result.contract.name)}`;
  const isInterrupted = result.endReason === 'interrupted';
  const cases = result.checks.map((check) => testCase(classname, check));
  if (isInterrupted) cases.push(`    <testcase classname="${classname}" name="run">\n      <error message="interrupted">interrupted before every check ran</error>\n    </testcase>`);
  const counts = `tests="${cases.length}" failures="${result.counts.failed}" errors="${isInterrupted ? 1 : 0}" skipped="${result.counts.skipped}" time="${(result.durationMs / 1000).toFixed(3)}"`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ${counts}>\n  <testsuite name="ssekit check ${xml(result.contract.name)}" ${counts} timestamp="${result.startedAt}">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}
