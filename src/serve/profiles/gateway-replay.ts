/**
 * The gateway's replay ring (CONTRACTS §5: "every channel carries `id:` and honours
 * `Last-Event-ID` to resume after a drop"): the last N events of one channel, indexed by id, and
 * the decision what a (re)connecting stream gets before live events. Pure: no I/O, no clock.
 */

/** One relayed event with its frames, encoded once per version. */
export interface BufferedEvent {
  readonly id: number;
  readonly event: string;
  /** Frame per schema version: index 0 = version 1, 1 = version 2. */
  readonly frames: readonly [Buffer, Buffer];
}

/** A bounded per-channel history, indexed by id (ids increase, so a ring keyed by id % capacity suffices). */
export interface ReplayBuffer {
  /** Last id issued (0 before the first event). */
  readonly lastId: () => number;
  /** Oldest id still held, or undefined when empty. */
  readonly oldestId: () => number | undefined;
  /**
   * Stores the event `make` builds with `id` and returns it; without `id`, the next one after the
   * last. The id is the bus's `seq` when the bus numbers messages for every process (`--workers`),
   * so ids agree across workers; ids may then skip (a message the channel does not carry). An id
   * not above the last is ignored (undefined).
   */
  readonly append: (make: (id: number) => BufferedEvent, id?: number) => BufferedEvent | undefined;
  /** Events with an id greater than `afterId`, oldest first. */
  readonly after: (afterId: number) => BufferedEvent[];
}

/** Creates a replay buffer holding the last `capacity` events (0 = none). */
export function createReplayBuffer(capacity: number): ReplayBuffer {
  const slots: Array<BufferedEvent | undefined> = new Array<BufferedEvent | undefined>(Math.max(0, capacity));
  let lastId = 0;
  // The first id this ring held: a worker started mid-stream holds nothing before it.
  let firstId = 1;
  const oldestId = (): number | undefined => (capacity <= 0 || lastId === 0 ? undefined : Math.max(firstId, lastId - capacity + 1));
  return {
    lastId: () => lastId,
    oldestId,
    append(make, id = lastId + 1) {
      if (id <= lastId) return undefined;
      if (lastId === 0) firstId = id;
      lastId = id;
      const entry = make(id);
      if (capacity > 0) slots[id % capacity] = entry;
      return entry;
    },
    after(afterId) {
      const oldest = oldestId();
      if (oldest === undefined) return [];
      const out: BufferedEvent[] = [];
      for (let id = Math.max(afterId + 1, oldest); id <= lastId; id += 1) {
        const entry = slots[id % capacity];
        if (entry !== undefined && entry.id === id) out.push(entry);
      }
      return out;
    },
  };
}

/** What a (re)connecting stream gets before live events. */
export interface ReplayPlan {
  readonly events: readonly BufferedEvent[];
  /** Set when events the client asked for may be missing (see the header comment). */
  readonly truncated?: { readonly lastEventId: string; readonly oldestId: number | null };
}

/** Decides the replay for a `Last-Event-ID` header value (undefined or '' = a first connect). */
export function planReplay(lastEventId: string | undefined, buffer: ReplayBuffer): ReplayPlan {
  if (lastEventId === undefined || lastEventId === '') return { events: [] };
  const lastId = buffer.lastId();
  const oldest = buffer.oldestId();
  const parsed = /^\d{1,15}$/.test(lastEventId) ? Number(lastEventId) : undefined;
  // Nothing missed: the id is the last one, or the event right before the oldest one held.
  const isKnown = parsed !== undefined && parsed <= lastId && parsed >= (oldest ?? lastId + 1) - 1;
  if (isKnown) return { events: buffer.after(parsed) };
  return { events: buffer.after(0), truncated: { lastEventId, oldestId: oldest ?? null } };
}
