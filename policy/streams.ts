/**
 * Stream-driven functions: a batch that keeps failing must neither block its shard forever nor
 * vanish. Every event source mapping on a DynamoDB or Kinesis stream bisects a failing batch,
 * retries a bounded number of times and sends what still fails to an on-failure destination; every
 * SQS queue (such destinations hold table data) is encrypted.
 */
import { get, type ResourceRule } from "./rules";

export const SQS_QUEUE = "aws:sqs/queue:Queue";
export const EVENT_SOURCE_MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping";

/** Most retries a stream mapping may make before the batch goes to its destination. */
export const MAX_STREAM_RETRIES = 10;

const isStream = (arn: unknown): boolean =>
  typeof arn === "string" && /^arn:aws[a-z-]*:(dynamodb:.*\/stream\/|kinesis:)/.test(arn);

export const streamMappingFailures: ResourceRule = {
  name: "stream-mapping-failure-handling",
  description: `Every event source mapping on a DynamoDB or Kinesis stream sets bisectBatchOnFunctionError, maximumRetryAttempts from 0 to ${MAX_STREAM_RETRIES} (the default, -1, retries until the record expires and blocks the shard) and an on-failure destination.`,
  types: [EVENT_SOURCE_MAPPING],
  check: (r) => {
    // A preview may not know the ARN yet; a mapping with a starting position reads a stream.
    if (!isStream(get(r.props, "eventSourceArn")) && !get(r.props, "startingPosition")) return [];
    const problems: string[] = [];
    if (get(r.props, "bisectBatchOnFunctionError") !== true) {
      problems.push(`mapping ${r.name}: bisectBatchOnFunctionError is not true`);
    }
    const retries = get(r.props, "maximumRetryAttempts");
    if (typeof retries !== "number" || retries < 0 || retries > MAX_STREAM_RETRIES) {
      problems.push(
        `mapping ${r.name}: maximumRetryAttempts ${String(retries)}, expected 0 to ${MAX_STREAM_RETRIES}`,
      );
    }
    if (!get(r.props, "destinationConfig", "onFailure", "destinationArn")) {
      problems.push(`mapping ${r.name}: no on-failure destination (failed records would be lost)`);
    }
    return problems;
  },
};

export const sqsEncryption: ResourceRule = {
  name: "sqs-encryption",
  description: "Every SQS queue is encrypted (SQS-managed keys or a KMS key).",
  types: [SQS_QUEUE],
  check: (r) =>
    get(r.props, "sqsManagedSseEnabled") === true || get(r.props, "kmsMasterKeyId")
      ? []
      : [`queue ${r.name}: neither sqsManagedSseEnabled nor kmsMasterKeyId (unencrypted)`],
};
