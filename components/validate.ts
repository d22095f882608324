/** Pure argument checks shared by the components. Messages repeat the bad value and say what is allowed. */
import { isRegion, REGION_DESCRIPTION } from "./regions";

/** Throws unless `region` looks like an AWS region name. `what` names the argument. */
export function assertRegion(what: string, region: unknown): asserts region is string {
  if (!isRegion(region)) {
    throw new Error(`${what} must be ${REGION_DESCRIPTION}: got ${JSON.stringify(region)}`);
  }
}

/** Throws unless every region is valid, none repeats and none equals `home`. */
export function assertPeerRegions(what: string, home: string, regions: readonly unknown[]): void {
  const seen = new Set<string>();
  for (const r of regions) {
    assertRegion(what, r);
    if (r === home) throw new Error(`${what} must not contain the home region ${home}`);
    if (seen.has(r)) throw new Error(`duplicate replica region ${r} in ${what}`);
    seen.add(r);
  }
}

/** Throws unless `value` is a plain value decided at program time, not a pulumi Output. */
export function assertPlain(what: string, value: unknown): void {
  if (
    value !== null &&
    typeof value === "object" &&
    "apply" in value &&
    typeof (value as { apply: unknown }).apply === "function"
  ) {
    throw new Error(
      `${what} decides which resources exist, so it must be a plain value, not an Output`,
    );
  }
}

/** Throws unless `value` is an integer within [min, max]. */
export function assertIntInRange(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${what} must be an integer from ${min} to ${max}: got ${value}`);
  }
}
