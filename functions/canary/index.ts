/**
 * CloudWatch Synthetics entry point (Node.js runtime): `handler` runs the checks in `check.ts`
 * with the real signer and HTTP client. A run fails when the handler throws; the error says which
 * request failed, with its status and `x-served-by-region`.
 *
 * Nothing here needs the Synthetics library: the file is bundled with esbuild like the Lambda
 * handlers and runs (and is tested) as a plain module.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { parseCanaryConfig, runCanary } from "./check";
import { httpSend, sigV4Signer } from "./transport";

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "canary" });

// The canary's execution role, from the Lambda environment; memoized and refreshed by the SDK.
const sign = sigV4Signer(defaultProvider());

/** Runs one canary check; throws (failing the run) at the first failed step. */
export const handler = async (): Promise<void> => {
  const config = parseCanaryConfig(process.env);
  try {
    await runCanary(config, {
      sign,
      send: httpSend,
      log: (message, fields) => logger.info(message, { ...fields }),
    });
  } catch (err) {
    logger.error("canary run failed", err instanceof Error ? err : String(err));
    throw err;
  }
};
