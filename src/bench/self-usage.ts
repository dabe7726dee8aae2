/** The bench process's own footprint: CPU, memory, and open sockets (so ssekit can prove it does not leak what it tests for). */
import { readdirSync, readlinkSync } from 'node:fs';

/** Open sockets of this process (Linux `/proc/self/fd`); null where that is not available. */
export function countOwnSockets(): number | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc/self/fd');
  } catch {
    return null;
  }
  let sockets = 0;
  for (const fd of entries) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) sockets += 1;
    } catch {
      // The fd closed while we looked.
    }
  }
  return sockets;
}
