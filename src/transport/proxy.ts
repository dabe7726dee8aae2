/**
 * Proxy settings from the conventional variables, as curl and undici read them:
 * `https_proxy`/`HTTPS_PROXY` for https URLs, `http_proxy`/`HTTP_PROXY` for http (and, as
 * undici's EnvHttpProxyAgent does, for https when no HTTPS proxy is set), `no_proxy`/`NO_PROXY`
 * (comma- or space-separated host names, `.domain` suffixes, `host:port`, `*`). The lower-case
 * name wins, as in curl. Only `cli/` reads the environment; it hands the variables in.
 *
 * Loopback is never proxied (localhost, 127.0.0.0/8, ::1), as Go's net/http does: a corporate
 * proxy cannot reach `ssekit serve` on this machine, and a test suite on 127.0.0.1 must not
 * depend on the shell it was started from.
 */

/** The proxy variables, as given. */
export interface ProxySettings {
  readonly httpProxy?: string | undefined;
  readonly httpsProxy?: string | undefined;
  readonly noProxy?: string | undefined;
}

/** Entries always added to NO_PROXY (see the file comment). */
const LOOPBACK_NO_PROXY = ['localhost', '127.0.0.1', '[::1]'] as const;

/** Reads the proxy variables from an environment record (lower case first). */
export function proxySettingsFromEnv(env: Readonly<Record<string, string | undefined>>): ProxySettings {
  const pick = (name: string): string | undefined => {
    const value = env[name.toLowerCase()] ?? env[name.toUpperCase()];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  return { httpProxy: pick('http_proxy'), httpsProxy: pick('https_proxy'), noProxy: pick('no_proxy') };
}

/** Whether any proxy is set. */
export function hasProxy(settings: ProxySettings | undefined): settings is ProxySettings {
  return settings !== undefined && (settings.httpProxy !== undefined || settings.httpsProxy !== undefined);
}

/** NO_PROXY with the loopback entries added. */
function noProxyWithLoopback(settings: ProxySettings): string {
  return [settings.noProxy ?? '', ...LOOPBACK_NO_PROXY].filter((entry) => entry !== '').join(',');
}

/** The proxy URL a request to `url` goes through, or undefined for a direct connection. */
export function proxyFor(url: URL, settings: ProxySettings | undefined): string | undefined {
  if (!hasProxy(settings)) return undefined;
  const proxy = url.protocol === 'https:' ? (settings.httpsProxy ?? settings.httpProxy) : settings.httpProxy;
  if (proxy === undefined || isExcluded(url, noProxyWithLoopback(settings))) return undefined;
  return proxy;
}

/** NO_PROXY matching: exact host, a subdomain of an entry, an optional port, `*` for all; 127.x always. */
function isExcluded(url: URL, noProxy: string): boolean {
  const host = url.hostname.toLowerCase();
  if (/^127\.\d+\.\d+\.\d+$/.test(host)) return true;
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  for (const raw of noProxy.split(/[,\s]+/)) {
    if (raw === '*') return true;
    const match = /^(.+):(\d+)$/.exec(raw);
    const entry = (match?.[1] ?? raw).replace(/^\*?\./, '').toLowerCase();
    if (entry === '' || (match !== null && Number(match[2]) !== port)) continue;
    if (host === entry || host.endsWith(`.${entry}`)) return true;
  }
  return false;
}
