/** Defaults more than one component shares, written once. */

/** Days a component keeps the log groups it creates (CloudWatch Logs accepts 30). */
export const DEFAULT_LOG_RETENTION_DAYS = 30;

/** Prefix of the names a component gives AWS resources when the caller names none. */
export const DEFAULT_NAME_PREFIX = "resilient-dynamo";
