/**
 * Event filters for `listen`: `--event <glob>` over the raw or normalized type and `--grep
 * <regex>` over the data.
 */
import { UsageError } from '../core/errors.js';

/** Options for `createEventFilter`. */
export interface EventFilterOptions {
  /** Globs (`*` any run, `?` one character), matched against the raw and the normalized type. */
  readonly eventGlobs?: readonly string[];
  /** A regular expression (JavaScript syntax) searched in the data. */
  readonly grep?: string | undefined;
}

/** A predicate over an event's raw type, normalized type and data. */
export type EventFilter = (rawType: string, type: string, data: string) => boolean;

/** Builds the filter; throws `UsageError` for an invalid regex. Accepts everything when empty. */
export function createEventFilter(options: EventFilterOptions): EventFilter {
  const globs = (options.eventGlobs ?? []).map(globToRegExp);
  let grep: RegExp | undefined;
  if (options.grep !== undefined) {
    try {
      grep = new RegExp(options.grep);
    } catch (error) {
      throw new UsageError(`--grep: '${options.grep}' is not a valid regular expression`, { cause: error });
    }
  }
  return (rawType, type, data) => {
    if (globs.length > 0 && !globs.some((re) => re.test(rawType) || re.test(type))) return false;
    return grep === undefined || grep.test(data);
  };
}

/** Converts a type glob (`order.*`) to an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`);
}
