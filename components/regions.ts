/**
 * The one AWS region pattern of the repository: the components, the program's config and the
 * canary code all check region names with it. Pure (no Pulumi import), so Lambda and canary code
 * can import it as `resilient-dynamo/regions` without pulling in the SDK.
 */

/**
 * An AWS region name of the commercial or GovCloud (US) partition, such as `us-east-1`,
 * `ap-southeast-7` or `us-gov-west-1`. A typo such as `us-east1` or `useast-1` is refused.
 */
export const REGION_PATTERN =
  /^(us|eu|ap|ca|sa|me|af|il|mx)(-gov)?-(north|south|east|west|central|northeast|southeast|northwest|southwest)-\d$/;

/** What a region must look like, for error messages. */
export const REGION_DESCRIPTION = "an AWS region name such as us-east-1";

export function isRegion(value: unknown): value is string {
  return typeof value === "string" && REGION_PATTERN.test(value);
}
