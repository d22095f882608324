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

export interface BundleOptions {
  /** File name of the bundle inside its archive; the map is `<outfile>.map`. @default "index.js" */
  readonly outfile?: string;
  /** esbuild target. @default NODE_TARGET */
  readonly target?: string;
}

const cache = new Map<string, Bundle>();

/**
 * Bundles one handler entry with esbuild at program time: everything it imports (the AWS SDK
 * included, so the deployed code runs the versions the tests ran), minified, with a linked source
 * map. Deterministic for the same sources, so an unchanged function shows no diff.
 */
export function bundleFunction(entry: string, options: BundleOptions = {}): Bundle {
  const absolute = path.resolve(REPO_ROOT, entry);
  const outfile = options.outfile ?? "index.js";
  const target = options.target ?? NODE_TARGET;
  const key = `${absolute}\0${outfile}\0${target}`;
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
    mainFields: ["module", "main"],
    absWorkingDir: REPO_ROOT,
  });
  const code = result.outputFiles.find((f) => path.basename(f.path) === outfile);
  const map = result.outputFiles.find((f) => path.basename(f.path) === `${outfile}.map`);
  if (!code || !map) throw new Error(`esbuild produced no output for ${entry}`);
  const bundle = { code: code.text, sourceMap: map.text };
  cache.set(key, bundle);
  return bundle;
}
