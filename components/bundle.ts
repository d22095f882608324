import * as path from "node:path";
import { buildSync } from "esbuild";

/** Repository root: entries in functions/routes.ts are relative to it. */
export const REPO_ROOT = path.resolve(__dirname, "..");

export interface Bundle {
  /** The bundled handler module (CommonJS, exports `handler`). */
  readonly code: string;
  /** Its source map, so stack traces in logs point at the TypeScript. */
  readonly sourceMap: string;
}

/** Node.js version the bundles target; matches the Lambda runtime RegionalApi uses. */
export const NODE_TARGET = "node22";

const cache = new Map<string, Bundle>();

/**
 * Bundles one handler entry with esbuild at program time: everything it imports (the AWS SDK
 * included, so the deployed code runs the versions the tests ran), minified, with a linked source
 * map. Deterministic for the same sources, so an unchanged function shows no diff.
 */
export function bundleFunction(entry: string): Bundle {
  const absolute = path.resolve(REPO_ROOT, entry);
  const cached = cache.get(absolute);
  if (cached) return cached;
  const result = buildSync({
    entryPoints: [absolute],
    bundle: true,
    platform: "node",
    target: NODE_TARGET,
    format: "cjs",
    minify: true,
    sourcemap: "linked",
    sourcesContent: false,
    outfile: "index.js",
    write: false,
    logLevel: "silent",
    legalComments: "none",
    mainFields: ["module", "main"],
    absWorkingDir: REPO_ROOT,
  });
  const code = result.outputFiles.find((f) => f.path.endsWith("index.js"));
  const map = result.outputFiles.find((f) => f.path.endsWith("index.js.map"));
  if (!code || !map) throw new Error(`esbuild produced no output for ${entry}`);
  const bundle = { code: code.text, sourceMap: map.text };
  cache.set(absolute, bundle);
  return bundle;
}
