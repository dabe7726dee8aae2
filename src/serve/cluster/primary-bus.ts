/**
 * The event bus of a `serve --workers` worker without `--redis`: publish goes to the primary,
 * which numbers the message on its channel and sends it to every subscribed worker (the sender
 * included) in one order, so every worker sees the same messages with the same `seq`. Ids
 * (`nextId`) come from the primary's counters, unique across workers. A worker that subscribes
 * late (a replacement) first gets the channel's recent history, marked `isReplay`.
 */
import type { BusHandler, EventBus } from '../bus.js';
import type { HistoryEntry } from './messages.js';
import type { WorkerLink } from './worker-link.js';

/** Creates the bus over the link; it takes over the link's `bus` push handler. */
export function createPrimaryBus(link: WorkerLink): EventBus {
  const handlers = new Map<string, BusHandler[]>();
  // Live messages that came while the channel's history was on its way (IPC messages may be
  // dispatched before the history answer's continuation runs): delivered right after it.
  const heldBack = new Map<string, Array<{ seq: number; message: string; origin: number }>>();
  const deliver = (channel: string, seq: number, message: string, origin: number): void => {
    // The worker it was published on counts it, once for the whole server.
    for (const handler of handlers.get(channel) ?? []) handler(message, { seq, isReplay: false, countsHere: origin === link.worker });
  };
  link.handlers.bus = (channel, seq, message, origin) => {
    const held = heldBack.get(channel);
    if (held !== undefined) held.push({ seq, message, origin });
    else deliver(channel, seq, message, origin);
  };
  return {
    kind: 'primary',
    publish: async (channel, message) => {
      await link.request({ op: 'publish', channel, message });
    },
    subscribe: async (channel, onMessage) => {
      const list = handlers.get(channel);
      if (list !== undefined) {
        list.push(onMessage);
        return;
      }
      handlers.set(channel, [onMessage]);
      heldBack.set(channel, []);
      // The primary sends live messages only after this answer, so history and live neither
      // overlap nor leave a gap.
      const history = (await link.request({ op: 'subscribe', channel })) as HistoryEntry[];
      for (const entry of history) onMessage(entry.message, { seq: entry.seq, isReplay: true, countsHere: false });
      const held = heldBack.get(channel) ?? [];
      heldBack.delete(channel);
      for (const entry of held) deliver(channel, entry.seq, entry.message, entry.origin);
    },
    nextId: async (counter) => (await link.request({ op: 'next-id', counter })) as number,
    close: async () => {
      handlers.clear();
    },
  };
}
