/**
 * listen's stdout as its sinks use it: every write honours backpressure (issue 13: the sinks
 * ignored `write()`'s return value, so 1 M events into a slow reader grew to 813 MB). A full
 * buffer closes the flow gate, which pauses every stream's response body until 'drain'. A write
 * error other than EPIPE (`> /dev/full`: ENOSPC) is kept and reported, so the command fails with
 * one line instead of exiting 0 with the output lost; EPIPE (`| head`) is a normal end that
 * cli/main.ts handles.
 */
import { createFlowGate, type FlowGate } from '../transport/flow-gate.js';

/** stdout wrapped for the sinks. */
export interface SinkOutput {
  /** Writes text; closes `gate` when the stream's buffer is full. */
  write(text: string): void;
  /** Open while stdout takes more; pass it to `runListen` as `flow`. */
  readonly gate: FlowGate;
  /** The first write error other than EPIPE, if any. */
  readonly failure: NodeJS.ErrnoException | undefined;
  /** Removes the listeners this wrapper added. */
  dispose(): void;
}

/** Wraps `stream`; `onFailure` is called once, with the first write error other than EPIPE. */
export function createSinkOutput(stream: NodeJS.WritableStream, onFailure: (error: NodeJS.ErrnoException) => void): SinkOutput {
  const gate = createFlowGate();
  let failure: NodeJS.ErrnoException | undefined;
  const onDrain = (): void => gate.open();
  const onError = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE' || failure !== undefined) return;
    failure = error;
    // No 'drain' follows an error: let paused streams go, so the run can end.
    gate.open();
    onFailure(error);
  };
  stream.on('error', onError);
  return {
    write(text) {
      if (failure !== undefined) return;
      if (!stream.write(text) && gate.isOpen) {
        gate.close();
        stream.once('drain', onDrain);
      }
    },
    gate,
    get failure() {
      return failure;
    },
    dispose() {
      stream.off('error', onError);
      stream.off('drain', onDrain);
    },
  };
}
