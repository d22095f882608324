/**
 * Stands in for `@aws-sdk/credential-provider-node` inside bundled Lambda code (see
 * `BundleOptions.trimForLambda`). On Lambda the execution role's credentials are in the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), which is the first
 * place the SDK's default chain looks; the rest of the chain (profiles, SSO, web identity, IMDS,
 * containers) and the STS/SSO clients it carries never run there and were half of each bundle.
 * Like the chain's own environment step, it reads the variables on every call and does not
 * refresh: Lambda replaces the environment before those credentials expire.
 */

export interface EnvCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Same name and call shape as the SDK's: `defaultProvider(init?)` returns a provider. */
export function defaultProvider(_init?: unknown): () => Promise<EnvCredentials> {
  return async () => {
    const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = process.env;
    if (!AWS_ACCESS_KEY_ID || !AWS_SECRET_ACCESS_KEY) {
      throw new Error("no AWS credentials: AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is not set");
    }
    return {
      accessKeyId: AWS_ACCESS_KEY_ID,
      secretAccessKey: AWS_SECRET_ACCESS_KEY,
      ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}),
    };
  };
}
