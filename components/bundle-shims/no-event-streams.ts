/**
 * Stands in for `@smithy/core/event-streams` inside bundled Lambda code (see
 * `BundleOptions.trimForLambda`). The SDK loads event-stream support lazily, only for
 * operations that stream events (Kinesis SubscribeToShard, Bedrock, Transcribe...); DynamoDB has
 * none, so this code never runs in our functions. If an operation ever needs it, the call fails
 * with this message instead of with a silent wrong result.
 */

function unavailable(): never {
  throw new Error("event streams are not bundled (bundleFunction trimForLambda)");
}

export class EventStreamSerde {
  constructor(..._args: unknown[]) {
    unavailable();
  }
}

export function eventStreamSerdeProvider(..._args: unknown[]): never {
  return unavailable();
}
