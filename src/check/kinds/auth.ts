/**
 * Check `auth`: who may open the stream. Each case presents credentials one way and names the
 * statuses it must get — no token, another role, an expired token, the token in the header or
 * in the query (CONTRACTS §1: "token accepted in `Authorization: Bearer` **or** a query
 * parameter"). The statuses are the contract's: FastAPI's HTTPBearer answers 403 `{"detail":
 * "Not authenticated"}` to a request without a token where RFC 6750 (and ssekit serve) say 401.
 *
 *     auth:
 *       cases:
 *         - {token: none, expect: 401}
 *         - {as: customer, expect: 403}
 *         - {token: expired, expect: 401}
 *         - {expect: 200}                          # Bearer header
 *         - {in: query, param: token, expect: 200} # ?token=
 */
import type { TokenPlacement } from '../../transport/auth.js';
import type { CheckContext, CheckKindRunner } from '../context.js';
import { describeResponse, fail, pass, skip } from '../evidence.js';
import { SkipCheck } from '../identities.js';
import type { AuthCase, AuthCheck } from '../plan.js';
import { BASE_KEYS, readIdentity, type CheckReader } from '../read-common.js';

const CASE_FIELDS = ['token', 'as', 'in', 'param', 'expect'];

/** Reads `checks.<name>` of kind auth. */
export const readAuthCheck: CheckReader<AuthCheck> = (f, base, env) => {
  f.allowOnly([...BASE_KEYS, 'cases']);
  const cases = f.sections('cases').map((c): AuthCase => {
    c.allowOnly(CASE_FIELDS);
    const placement = c.oneOf('in', ['header', 'query'], 'header');
    return {
      token: c.oneOf('token', ['none', 'valid', 'expired'], 'valid'),
      as: readIdentity(c, 'as', base.as, env),
      placement,
      param: c.string('param', 'token') ?? 'token',
      expect: readStatuses(c.raw('expect'), (what) => c.problem(what, 'expect')),
    };
  });
  if (cases.length === 0) f.problem('lists no case', 'cases');
  return { ...base, kind: 'auth', cases };
};

function readStatuses(raw: unknown, problem: (what: string) => void): number[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (raw === undefined || !list.every((s) => typeof s === 'number' && Number.isInteger(s) && s >= 100 && s <= 599)) {
    problem('must be an HTTP status or a list of them, such as 401 or [401, 403]');
    return [200];
  }
  return list as number[];
}

/** Runs an auth check: every case, in order. */
export const authRunner: CheckKindRunner<AuthCheck> = {
  plannedMs: () => 0,
  async run(spec, ctx) {
    const lines: { text: string; isOk: boolean | undefined }[] = [];
    for (const authCase of spec.cases) {
      if (ctx.signal.aborted) break;
      lines.push(await runCase(spec, authCase, ctx));
    }
    const failed = lines.filter((l) => l.isOk === false);
    const ran = lines.filter((l) => l.isOk !== undefined);
    if (ran.length === 0) return skip(lines.map((l) => l.text).join('; '));
    const ordered = [...failed, ...lines.filter((l) => l.isOk !== false)];
    return failed.length === 0 ? pass(ordered.map((l) => l.text).join('; ')) : fail(ordered.map((l) => l.text).join('; '));
  },
};

/** One case: `no token → 401`, or `no token → 403 Forbidden ("Not authenticated"), contract: 401`. */
async function runCase(spec: AuthCheck, authCase: AuthCase, ctx: CheckContext): Promise<{ text: string; isOk: boolean | undefined }> {
  let token: TokenPlacement | undefined;
  try {
    token = authCase.token === 'none' ? undefined : await ctx.token({ as: authCase.as, isExpired: authCase.token === 'expired', queryName: authCase.placement === 'query' ? authCase.param : undefined });
  } catch (error) {
    if (error instanceof SkipCheck) return { text: `${caseLabel(spec, authCase, authCase.placement === 'query' ? authCase.param : undefined)}: skipped (${error.message})`, isOk: undefined };
    throw error;
  }
  // Labelled by where the token really went (--token-query moves every token to the query).
  const label = caseLabel(spec, authCase, token?.queryName);
  const probe = await ctx.open(spec.stream, token);
  probe.close();
  // 200 counts only as an opened stream: a 200 login page is not "allowed in".
  const status = probe.status === 200 && !probe.isStream ? -1 : probe.status;
  const isOk = authCase.expect.includes(status);
  const expected = authCase.expect.join(' or ');
  return { text: isOk ? `${label} → ${probe.status}` : `${label} → ${describeResponse(probe)}, contract: ${expected}`, isOk };
}

function caseLabel(spec: AuthCheck, authCase: AuthCase, queryName: string | undefined): string {
  if (authCase.token === 'none') return 'no token';
  const where = queryName === undefined ? 'Bearer' : `?${queryName}=`;
  const who = authCase.as === spec.as ? '' : `${authCase.as} `;
  return authCase.token === 'expired' ? `expired ${who}${where}`.replace(/\s+/g, ' ').trim() : `${who}${where}`;
}
