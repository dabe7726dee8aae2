/**
 * Redaction: every message, log line and report passes through here. Secrets are bearer
 * tokens, JWTs, the values of secret headers (`isSecretHeaderName`) and token-like query
 * parameters. The same header rule decides which headers a cross-origin redirect drops, so what
 * is hidden from output is also never sent to another origin.
 */

const SECRET_QUERY_NAMES = new Set(['token', 'access_token', 'accesstoken', 'auth', 'authorization', 'jwt', 'apikey', 'api_key', 'key', 'secret', 'password', 'sig', 'signature']);
const REDACTED = '***';
// Exact secret values this process knows (opaque tokens from flags, env or files): hidden
// wherever they appear, even where no pattern would recognise them.
const knownSecrets = new Set<string>();

/** Registers a secret value (at least 4 characters) to be hidden by every later redaction. */
export function registerSecret(value: string | undefined): void {
  if (value !== undefined && value.length >= 4) knownSecrets.add(value);
}

/** Redacts token query parameters (and any `extra` names, e.g. `--token-query`) and userinfo passwords in a URL. */
export function redactUrl(url: string | URL, extraQueryNames: readonly string[] = []): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : new URL(url.href);
  } catch {
    return redactText(String(url));
  }
  if (parsed.password) parsed.password = REDACTED;
  const extra = new Set(extraQueryNames.map((n) => n.toLowerCase()));
  for (const name of [...parsed.searchParams.keys()]) {
    const lower = name.toLowerCase();
    if (SECRET_QUERY_NAMES.has(lower) || extra.has(lower) || knownSecrets.has(parsed.searchParams.get(name) ?? '')) parsed.searchParams.set(name, REDACTED);
  }
  // URLSearchParams encodes '*' as-is, so the redacted value stays readable.
  return parsed.href;
}

const JWT_RE = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const BEARER_RE = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const HEADER_RE = /\b(authorization|cookie|set-cookie|x-api-key|api-key|x-auth-token|x-access-token)(\s*[:=]\s*)([^\r\n,;]+)/gi;
// Header names whose values are credentials: the well-known ones, and any name with a token,
// secret, password, key, auth or session part (`X-Api-Key`, `X-Auth-Token`, `X-Session-Id`).
const SECRET_HEADER_RE = /^(?:authorization|proxy-authorization|cookie|set-cookie|apikey)$|(?:^|-)(?:token|secret|password|passwd|api-?key|key|auth|session|signature)(?:$|-)/i;
// The same names as in URLs, so a URL inside a message is redacted as the URL itself would be.
const QUERY_RE = new RegExp(`([?&](?:${[...SECRET_QUERY_NAMES].join('|')})=)[^&\\s#"']+`, 'gi');
const USERINFO_RE = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s@]*:)[^@\s/]+@/gi;

/** Redacts anything that looks like a secret inside free text. `secrets` are exact values to hide. */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of [...secrets, ...knownSecrets]) {
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  return out
    .replace(HEADER_RE, (_m, name: string, sep: string) => `${name}${sep}${REDACTED}`)
    .replace(BEARER_RE, (_m, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(JWT_RE, REDACTED)
    .replace(QUERY_RE, `$1${REDACTED}`)
    .replace(USERINFO_RE, `$1${REDACTED}@`);
}

/** Whether a header's value is a credential (hidden in output, dropped on a cross-origin redirect). */
export function isSecretHeaderName(name: string): boolean {
  return SECRET_HEADER_RE.test(name);
}

/** Headers with secret values replaced, for debug output. */
export function redactHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = isSecretHeaderName(name) ? REDACTED : value;
  return out;
}
