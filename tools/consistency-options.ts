/** The consistency options `npm start` and `npm run drill` share, checked as MRSC checks them. */
import { CONSISTENCY_MODES } from "../functions/tables";
import { UsageError, choiceOption, intOption } from "./cli-args";
import { MAX_MRSC_WRITE_LATENCY_MS, planMrscTopology } from "../local/mrsc/model";

export interface ConsistencyCliOptions {
  readonly consistency?: "eventual" | "strong";
  readonly witnessRegion?: string;
  readonly mrscWriteLatencyMs?: number;
}

/**
 * `--consistency`, `--witness-region` and `--mrsc-write-latency-ms`, with `regions` the replicas:
 * a UsageError for a combination MRSC refuses or an option that needs strong mode.
 */
export function parseConsistencyOptions(
  values: {
    consistency?: string | boolean | undefined;
    "witness-region"?: string | boolean | undefined;
    "mrsc-write-latency-ms"?: string | boolean | undefined;
  },
  regions: readonly string[],
): ConsistencyCliOptions {
  const str = (v: string | boolean | undefined): string | undefined =>
    typeof v === "string" ? v : undefined;
  const consistency = choiceOption("consistency", str(values.consistency), CONSISTENCY_MODES);
  const witness = str(values["witness-region"]);
  const latency = intOption(
    "mrsc-write-latency-ms",
    str(values["mrsc-write-latency-ms"]),
    0,
    MAX_MRSC_WRITE_LATENCY_MS,
  );
  if (consistency !== "strong") {
    if (witness !== undefined) throw new UsageError("--witness-region needs --consistency strong");
    if (latency !== undefined)
      throw new UsageError("--mrsc-write-latency-ms needs --consistency strong");
    return consistency !== undefined ? { consistency } : {};
  }
  try {
    planMrscTopology(regions, witness);
  } catch (err) {
    throw new UsageError(`--consistency strong: ${(err as Error).message}`);
  }
  return {
    consistency,
    ...(witness !== undefined ? { witnessRegion: witness } : {}),
    ...(latency !== undefined ? { mrscWriteLatencyMs: latency } : {}),
  };
}
