/**
 * Matching delivered events to published ones. Two ways:
 * - a marker ssekit writes into the payload (`{{nonce}}` → `ssk_<run>_<seq>_`), found with
 *   `indexOf` before any JSON parsing, so it works with any backend that relays the payload;
 * - an id the producer returns (e.g. `order_id` in the POST response) found at a JSON path in
 *   the delivered event.
 */
import { randomBytes } from 'node:crypto';
import { readJsonPath } from '../core/json-path.js';

/** Marker correlation for one run. */
export interface MarkerCodec {
  /** The common prefix, unique to the run. */
  readonly prefix: string;
  /** The marker for an event. */
  markerFor(seq: number): string;
  /**
   * Calls `onSeq` for each marker in `data`, from `from` (an index where the prefix is already
   * known to start, to save a second search). No allocation when there is none: the hot path
   * for events without a marker is one `indexOf`.
   */
  scan(data: string, onSeq: (seq: number) => void, from?: number): void;
}

/** Creates the marker codec; `runId` defaults to 8 random hex characters. */
export function createMarkerCodec(runId: string = randomBytes(4).toString('hex')): MarkerCodec {
  const prefix = `ssk_${runId}_`;
  return {
    prefix,
    markerFor: (seq) => `${prefix}${seq}_`,
    scan(data, onSeq, from) {
      let at = from ?? data.indexOf(prefix);
      while (at !== -1) {
        let i = at + prefix.length;
        let seq = 0;
        let digits = 0;
        for (; i < data.length; i++) {
          const c = data.charCodeAt(i);
          if (c < 0x30 || c > 0x39) break;
          seq = seq * 10 + (c - 0x30);
          digits += 1;
        }
        if (digits > 0 && data.charCodeAt(i) === 0x5f /* _ */) onSeq(seq);
        at = data.indexOf(prefix, i);
      }
    },
  };
}

/** The id at a JSON path (`data.order_id`), as a string: numbers and strings only. */
export function readIdAt(value: unknown, path: string): string | undefined {
  const found = readJsonPath(value, path);
  return typeof found === 'string' ? found : typeof found === 'number' && Number.isFinite(found) ? String(found) : undefined;
}
