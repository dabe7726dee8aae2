/**
 * Backpressure from a consumer (listen's stdout) back to the streams feeding it. When the
 * consumer's buffer is full it closes the gate; every stream then pauses its response body after
 * the chunk in hand, so TCP flow control slows the server instead of ssekit buffering without
 * bound (issue 13: 1 M events into a slow reader grew to 813 MB). The gate opens on 'drain'.
 */

/** What a stream sees of the gate. */
export interface FlowGate {
  readonly isOpen: boolean;
  /** Calls `listener` once, the next time the gate opens; returns a function that cancels it. */
  onceOpen(listener: () => void): () => void;
}

/** The consumer's side of the gate. */
export interface ControlledFlowGate extends FlowGate {
  close(): void;
  open(): void;
}

/** Creates an open gate. */
export function createFlowGate(): ControlledFlowGate {
  let isOpen = true;
  const waiting = new Set<() => void>();
  return {
    get isOpen() {
      return isOpen;
    },
    onceOpen(listener) {
      waiting.add(listener);
      return () => waiting.delete(listener);
    },
    close() {
      isOpen = false;
    },
    open() {
      if (isOpen) return;
      isOpen = true;
      const listeners = [...waiting];
      waiting.clear();
      for (const listener of listeners) listener();
    },
  };
}
