/** The queue of one replication direction: changes ordered by when they are due. */
import type { Change } from "./state";

export interface QueuedChange {
  readonly change: Change;
  readonly due: number;
  readonly seq: number;
}

/** A binary min-heap of changes by (due time, arrival order). */
export class DueQueue {
  private readonly heap: QueuedChange[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  clear(): void {
    this.heap.length = 0;
  }

  changes(): Change[] {
    return this.heap.map((q) => q.change);
  }

  peek(): QueuedChange | undefined {
    return this.heap[0];
  }

  oldestChangeTs(): number | undefined {
    let min: number | undefined;
    for (const q of this.heap)
      if (min === undefined || q.change.version.ts < min) min = q.change.version.ts;
    return min;
  }

  push(change: Change, due: number): void {
    const h = this.heap;
    h.push({ change, due, seq: this.seq++ });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i] as QueuedChange, h[parent] as QueuedChange)) break;
      [h[i], h[parent]] = [h[parent] as QueuedChange, h[i] as QueuedChange];
      i = parent;
    }
  }

  pop(): QueuedChange | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l] as QueuedChange, h[m] as QueuedChange)) m = l;
        if (r < h.length && before(h[r] as QueuedChange, h[m] as QueuedChange)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as QueuedChange, h[i] as QueuedChange];
        i = m;
      }
    }
    return top;
  }
}

function before(a: QueuedChange, b: QueuedChange): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}
