import * as path from "node:path";
import { buildSync } from "esbuild";

export interface Bundle {
  /** The bundled handler module (CommonJS, exports `handler`). */
  readonly code: string;
  /** Its source map, so stack traces in logs point at the TypeScript. */
  readonly sourceMap: string;
}

/** Node.js version the bundles target; matches the Lambda runtime RegionalApi uses. */
export const NODE_TARGET = "node22";

export interface BundleOptions {
  /** File name of the bundle inside its archive; the map is `<outfile>.map`. @default "index.js" */
  readonly outfile?: string;
  /** esbuild target. @default NODE_TARGET */
  readonly target?: string;
  /**
   * Leave out AWS SDK code that never runs in a Lambda function of ours: the default credential
   * chain past its first step (the execution role's credentials in the environment), event
   * streams (DynamoDB has no streaming operation) and the endpoint-discovery cache (no DynamoDB
   * command reads it). Together they were 38% of each bundle (`npm run bench` measures).
   * Turn off for code that runs elsewhere or needs another credential source.
   * @default true
   */
  readonly trimForLambda?: boolean;
}

/** Module replacements for `trimForLambda`: each stand-in exports what the SDK imports from it. */
export const LAMBDA_SDK_TRIM: Readonly<Record<string, string>> = {
  "@aws-sdk/credential-provider-node": path.join(__dirname, "bundle-shims", "lambda-credentials"),
  "@smithy/core/event-streams": path.join(__dirname, "bundle-shims", "no-event-streams"),
  "@aws-sdk/endpoint-cache": path.join(__dirname, "bundle-shims", "no-endpoint-cache"),
};

const cache = new Map<string, Bundle>();

/** Throws unless `codeRoot` is an absolute directory path (esbuild's working directory must be). */
export function assertCodeRoot(codeRoot: unknown): asserts codeRoot is string {
  if (typeof codeRoot !== "string" || !path.isAbsolute(codeRoot)) {
    throw new Error(`codeRoot must be an absolute directory: got ${JSON.stringify(codeRoot)}`);
  }
}

/**
 * Bundles one handler entry with esbuild at program time: everything it imports (the AWS SDK
 * included, so the deployed code runs the versions the tests ran), minified, with a linked source
 * map. Deterministic for the same sources, so an unchanged function shows no diff.
 *
 * `entry` is resolved against `codeRoot`, the directory that holds the caller's handler code
 * (typically the program's own root). esbuild works in `codeRoot` too, so the paths in the
 * source map are relative to it: the same sources under the same root give the same bytes.
 */
export function bundleFunction(
  entry: string,
  codeRoot: string,
  options: BundleOptions = {},
): Bundle {
  assertCodeRoot(codeRoot);
  const absolute = path.resolve(codeRoot, entry);
  const outfile = options.outfile ?? "index.js";
  const target = options.target ?? NODE_TARGET;
  const trim = options.trimForLambda ?? true;
  const key = `${codeRoot}\0${absolute}\0${outfile}\0${target}\0${trim}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const result = buildSync({
    entryPoints: [absolute],
    bundle: true,
    platform: "node",
    target,
    format: "cjs",
    minify: true,
    sourcemap: "linked",
    sourcesContent: false,
    outfile,
    write: false,
    logLevel: "silent",
    legalComments: "none",
    // ES modules first: esbuild drops what the handler does not use (the SDK's CommonJS builds
    // are one file per package and nearly twice the size).
    mainFields: ["module", "main"],
    ...(trim ? { alias: { ...LAMBDA_SDK_TRIM } } : {}),
    absWorkingDir: codeRoot,
  });
  const code = result.outputFiles.find((f) => path.basename(f.path) === outfile);
  const map = result.outputFiles.find((f) => path.basename(f.path) === `${outfile}.map`);
  if (!code || !map) throw new Error(`esbuild produced no output for ${entry}`);
  const bundle = { code: code.text, sourceMap: map.text };
  cache.set(key, bundle);
  return bundle;
}
