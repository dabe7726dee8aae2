/**
 * Matching publish's deliveries to its events: by the marker in the payload (the tracker finds
 * it), or by the id the producer returned, found at a JSON path in the delivered event. With
 * ids a delivery can arrive before the producer's response: it is parked until the id is known.
 */
import { readIdAt, type MarkerCodec } from '../metrics/correlate.js';
import type { DeliveryTracker } from '../metrics/delivery-tracker.js';
import type { ProduceResult } from '../producers/types.js';
import { tryParseJson } from '../stream/normalize.js';

/** How deliveries are matched to published events. */
export type Correlation =
  | { readonly kind: 'marker' }
  | {
      readonly kind: 'id';
      /** JSON path of the id in the producer's response (e.g. `order_id`). */
      readonly responsePath: string;
      /** JSON path of the id in the delivered event's data (e.g. `data.order_id`). */
      readonly eventPath: string;
    };

/** The matcher of one run. */
export interface DeliveryMatcher {
  /** Event data reached `watcher` at `at`. */
  onDelivery(watcher: number, data: string, at: number): void;
  /** The producer answered for `seq`; a message when the event cannot be matched (no id). */
  onPublished(seq: number, result: ProduceResult): string | undefined;
  /** What identifies `seq` in reports: its id, or its marker. */
  idOf(seq: number): string;
}

/** Creates the matcher. */
export function createDeliveryMatcher(correlation: Correlation, tracker: DeliveryTracker, marker: MarkerCodec): DeliveryMatcher {
  if (correlation.kind === 'marker') {
    return { onDelivery: (watcher, data, at) => tracker.onData(watcher, data, at), onPublished: () => undefined, idOf: (seq) => marker.markerFor(seq) };
  }
  const seqById = new Map<string, number>();
  const idBySeq = new Map<number, string>();
  const early = new Map<string, { watcher: number; at: number }[]>();
  return {
    onDelivery(watcher, data, at) {
      const parsed = tryParseJson(data);
      const id = parsed.ok ? readIdAt(parsed.value, correlation.eventPath) : undefined;
      if (id === undefined) return;
      const seq = seqById.get(id);
      if (seq !== undefined) tracker.onSeq(watcher, seq, at);
      else {
        // The broadcast usually beats the producer's response: park it (one list per id, appended).
        let parked = early.get(id);
        if (parked === undefined) early.set(id, (parked = []));
        parked.push({ watcher, at });
      }
    },
    onPublished(seq, result) {
      const parsed = tryParseJson(result.responseText ?? '');
      const id = parsed.ok ? readIdAt(parsed.value, correlation.responsePath) : undefined;
      if (id === undefined) return `no id at '${correlation.responsePath}' in the producer's response`;
      idBySeq.set(seq, id);
      seqById.set(id, seq);
      for (const parked of early.get(id) ?? []) tracker.onSeq(parked.watcher, seq, parked.at);
      early.delete(id);
      return undefined;
    },
    idOf: (seq) => idBySeq.get(seq) ?? marker.markerFor(seq),
  };
}
