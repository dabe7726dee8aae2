/**
 * `--max-connections` (issue 14 point 4): the first N TCP connections of this process are
 * admitted; a request on any connection beyond them is answered 503 `server_full` with
 * `Retry-After` and the connection is closed, so a full server says so instead of piling up
 * sockets until its file limit. Counting is O(1) per connection (a counter and a WeakSet).
 */
import type { Socket } from 'node:net';
import { HttpError } from './http.js';

/** Seconds a refused client is asked to wait (`Retry-After`; ssekit's clients treat it as a floor). */
const FULL_RETRY_AFTER_S = 5;

/** Admission of TCP connections under a maximum. */
export class ConnectionGate {
  private readonly max: number | undefined;
  private readonly admitted = new WeakSet<Socket>();
  private openCount = 0;

  /** `max` undefined: no limit. */
  constructor(max: number | undefined) {
    this.max = max;
  }

  /** Called for every new connection ('connection' event). */
  onConnection(socket: Socket): void {
    if (this.max === undefined || this.openCount >= this.max) return;
    this.openCount += 1;
    this.admitted.add(socket);
    socket.once('close', () => {
      this.openCount -= 1;
    });
  }

  /** Whether requests on `socket` are served. */
  isAdmitted(socket: Socket): boolean {
    return this.max === undefined || this.admitted.has(socket);
  }

  /** The answer for a connection over the limit. */
  refusal(): HttpError {
    return new HttpError(503, 'server_full', `the server holds its maximum of ${this.max ?? 0} connections; retry later`, {
      headers: { 'Retry-After': String(FULL_RETRY_AFTER_S), Connection: 'close' },
    });
  }
}
