/**
 * Path → route matching for the reference backend. Routes are exact paths with `{name}` for one
 * non-empty segment; exact routes win over parameterised ones (`/admin/orders/sse` before
 * `/admin/orders/{id}`). A path that matches no route is 404, one that matches with another
 * method is 405 with `Allow`.
 *
 * The request target is normalized once, before matching (issue 14 point 5): dot segments are
 * resolved and percent-escapes of unreserved characters decoded (WHATWG URL), but empty segments
 * are kept, so `//metrics` is its own path (404) and never the index page or `/metrics`.
 */
import { HttpError } from './http.js';
import type { Route } from './profile.js';

/** A matched route and its decoded `{name}` parameters. */
export interface RouteMatch {
  readonly route: Route;
  readonly params: Record<string, string>;
}

/** The route table. */
export interface Router {
  /** Adds a route; the same method and path twice is a bug (throws). */
  readonly mount: (route: Route) => void;
  /** The route for `pathname` and `method`; throws HttpError 404 or 405. */
  readonly find: (pathname: string, method: string) => RouteMatch;
}

interface CompiledRoute {
  readonly route: Route;
  readonly segments: readonly string[];
  readonly paramNames: ReadonlyArray<string | undefined>;
  readonly paramCount: number;
}

/** Creates an empty route table. */
export function createRouter(): Router {
  // Keyed by segment count: a request only looks at routes of its own length.
  const bySegmentCount = new Map<number, CompiledRoute[]>();
  return {
    mount(route) {
      const compiled = compile(route);
      const list = bySegmentCount.get(compiled.segments.length) ?? [];
      if (list.some((other) => other.route.method === route.method && other.route.path === route.path)) throw new Error(`route mounted twice: ${route.method} ${route.path}`);
      list.push(compiled);
      list.sort((a, b) => a.paramCount - b.paramCount);
      bySegmentCount.set(compiled.segments.length, list);
    },
    find(pathname, method) {
      const parts = pathname.split('/');
      const allowed = new Set<string>();
      for (const candidate of bySegmentCount.get(parts.length) ?? []) {
        const params = matchSegments(candidate, parts);
        if (params === undefined) continue;
        if (candidate.route.method === method) return { route: candidate.route, params };
        allowed.add(candidate.route.method);
      }
      if (allowed.size > 0) throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${pathname}`, { headers: { Allow: [...allowed].join(', ') } });
      throw new HttpError(404, 'not_found', `no route for ${pathname}`);
    },
  };
}

/**
 * The request target as a URL (RFC 9112 §3.2): origin-form (`/path?query`) or absolute-form
 * (`http://host/path`, as sent to proxies). Anything else is 400. Origin-form is appended to a
 * fixed origin rather than resolved against it, so `//metrics` stays a path instead of becoming
 * a scheme-relative URL whose host is `metrics` and whose path is `/`.
 */
export function parseRequestTarget(target: string | undefined): URL {
  const raw = target ?? '/';
  try {
    if (raw.startsWith('/')) return new URL(`http://localhost${raw}`);
    const absolute = new URL(raw);
    if (absolute.protocol === 'http:' || absolute.protocol === 'https:') return absolute;
  } catch {
    // Malformed: the 400 below.
  }
  throw new HttpError(400, 'bad_url', 'malformed request URL');
}

function compile(route: Route): CompiledRoute {
  const segments = route.path.split('/');
  const paramNames = segments.map((segment) => /^\{(\w+)\}$/.exec(segment)?.[1]);
  return { route, segments, paramNames, paramCount: paramNames.filter((name) => name !== undefined).length };
}

/** The decoded parameters if `parts` matches the route, else undefined. */
function matchSegments(candidate: CompiledRoute, parts: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let index = 0; index < parts.length; index += 1) {
    const part = parts[index] ?? '';
    const name = candidate.paramNames[index];
    if (name === undefined) {
      if (part !== candidate.segments[index]) return undefined;
      continue;
    }
    // An empty segment (`/streams//events`) never fills a parameter.
    if (part === '') return undefined;
    try {
      params[name] = decodeURIComponent(part);
    } catch {
      return undefined;
    }
  }
  return params;
}
