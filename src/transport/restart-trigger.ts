/**
 * A user-requested restart (listen's SIGHUP, the contract suite's "caller can trigger a
 * restart"): every stream subscribed drops its connection and reconnects at once, with its last
 * event ID, without waiting for a backoff delay.
 */

/** What a stream sees: a way to be told about restarts. */
export interface RestartSignal {
  /** Calls `listener` on every restart; returns a function that unsubscribes. */
  subscribe(listener: () => void): () => void;
}

/** The requester's side. */
export interface RestartTrigger extends RestartSignal {
  restart(): void;
}

/** Creates a trigger with no subscribers. */
export function createRestartTrigger(): RestartTrigger {
  const listeners = new Set<() => void>();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    restart() {
      for (const listener of [...listeners]) listener();
    },
  };
}
