/**
 * Pause controls: which directions between regions are paused, the way the control API and the
 * drill cut replication between regions (a partition) while each region keeps serving.
 */

/** A pair of regions as `from>to`. */
function pairId(from: string, to: string): string {
  return `${from}>${to}`;
}

/** The paused directions between a set of regions. */
export class Partitions {
  private readonly paused = new Set<string>();

  constructor(private readonly regions: readonly string[]) {}

  /** Pauses replication from `from` to `to` (either omitted: every region on that side). */
  pause(from?: string, to?: string): void {
    for (const [a, b] of this.pairs(from, to)) this.paused.add(pairId(a, b));
  }

  resume(from?: string, to?: string): void {
    for (const [a, b] of this.pairs(from, to)) this.paused.delete(pairId(a, b));
  }

  isPaused(from: string, to: string): boolean {
    return this.paused.has(pairId(from, to));
  }

  /** The ordered pairs of distinct regions that `from` and `to` (each optional) select. */
  private pairs(from?: string, to?: string): [string, string][] {
    if (from !== undefined) this.check(from);
    if (to !== undefined) this.check(to);
    const out: [string, string][] = [];
    for (const a of this.regions) {
      for (const b of this.regions) {
        if (a !== b && (from === undefined || a === from) && (to === undefined || b === to)) {
          out.push([a, b]);
        }
      }
    }
    return out;
  }

  private check(region: string): void {
    if (!this.regions.includes(region))
      throw new Error(`unknown region ${region}; known: ${this.regions.join(", ")}`);
  }
}
