import { evaluateStack, stackRefName, type StackEvaluation } from "../../tools/evaluate-stack";
import { PROJECT_DIR, readStackConfig } from "../../tools/stack-config";

/**
 * The config of a stack file (Pulumi.yaml defaults applied) with some keys changed: a key
 * without `:` is a project key; undefined deletes the key.
 */
export function configOf(
  stack: string,
  patch: Readonly<Record<string, string | undefined>>,
  file?: string,
): Record<string, string> {
  const config = { ...readStackConfig(stack, PROJECT_DIR, file) };
  for (const [k, v] of Object.entries(patch)) {
    const key = k.includes(":") ? k : `resilient-dynamo:${k}`;
    if (v === undefined) delete config[key];
    else config[key] = v;
  }
  return config;
}

const evaluations = new Map<string, Promise<StackEvaluation>>();

/**
 * A stack file evaluated under the mocks with some keys changed (see configOf), once per test run:
 * test files that only read an evaluation share it. `peers` are the stacks it references,
 * evaluated (and shared) the same way with their own changes. Callers must not change the result.
 */
export function sharedEvaluation(
  stack: string,
  patch: Readonly<Record<string, string | undefined>> = {},
  peers: Readonly<Record<string, Readonly<Record<string, string | undefined>>>> = {},
): Promise<StackEvaluation> {
  const key = JSON.stringify([stack, patch, peers]);
  let run = evaluations.get(key);
  if (!run) {
    run = (async () => {
      const stackOutputs: Record<string, Record<string, unknown>> = {};
      for (const [peer, peerPatch] of Object.entries(peers)) {
        stackOutputs[stackRefName(peer)] = (await sharedEvaluation(peer, peerPatch)).outputs;
      }
      return evaluateStack(stack, { config: configOf(stack, patch), stackOutputs });
    })();
    evaluations.set(key, run);
    // A failed evaluation is not cached: the next caller sees the error again, not a stale one.
    run.catch(() => evaluations.delete(key));
  }
  return run;
}

/** Customer-managed KMS keys the tests configure, one per region (mock account). */
export const KMS_TEST_KEYS = {
  "us-east-1": "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab",
  "us-west-2": "arn:aws:kms:us-west-2:000000000000:key/2234abcd-12ab-34cd-56ef-1234567890ab",
  "us-east-2": "arn:aws:kms:us-east-2:000000000000:key/3234abcd-12ab-34cd-56ef-1234567890ab",
} as const;
/** region1's and region2's kmsKeyArns covering every region each keeps data in. */
export const REGION1_KEYS = {
  kmsKeyArns: JSON.stringify([KMS_TEST_KEYS["us-east-1"], KMS_TEST_KEYS["us-west-2"]]),
};
export const REGION2_KEYS = {
  kmsKeyArns: JSON.stringify([KMS_TEST_KEYS["us-west-2"], KMS_TEST_KEYS["us-east-2"]]),
};
/** A region1 variant: CORS preflight routes, and canaries pointed at other ids. */
export const OTHER_IDS_AND_CORS = {
  corsAllowOrigin: "https://app.example.com",
  canaryOrderId: "o-1",
  canaryProductId: "p-1",
};
