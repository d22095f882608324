/**
 * The contract between CanaryFleet and the script its canaries run: where the script's code is,
 * which signed requests it makes (its role may invoke exactly those), and the settings it reads
 * from its environment besides the ones the fleet sets for every target. Pure: no resources.
 */
import * as path from "node:path";
import { bundleFunction } from "./bundle";
import { executeApiPath, HttpMethod } from "./regional-api-routes";

/**
 * Where Puppeteer runtimes look for the script, and the handler string that names it. Every
 * Puppeteer runtime accepts this layout; Playwright runtimes want the file at the zip root.
 */
export const CANARY_SCRIPT_PATH = "nodejs/node_modules/canary.js";
/** The handler string of CANARY_SCRIPT_PATH: its module name and the export `handler`. */
export const CANARY_HANDLER = "canary.handler";

/**
 * The environment variables the fleet sets on every canary itself: the target's endpoint and
 * signing region, and the per-request timeout. A script setting must not reuse them.
 */
export const CANARY_FLEET_ENV = {
  endpoint: "CANARY_ENDPOINT",
  signingRegion: "CANARY_SIGNING_REGION",
  requestTimeoutMs: "CANARY_TIMEOUT_MS",
} as const;

/** One signed request the script makes; the canaries' role may invoke exactly these. */
export interface CanaryRequestArgs {
  /** The request's HTTP method. */
  method: HttpMethod;
  /**
   * The API resource path it calls, as the API declares it, with `{name}` for a path parameter:
   * `/orders/{orderId}` lets the role invoke `GET /orders/*` on every API of the fleet.
   */
  path: string;
}

/**
 * A setting of the script that is the same on every canary of the fleet (an id it reads, say),
 * passed as an environment variable and checked before any resource exists.
 */
export interface CanarySettingArgs {
  /** The environment variable, e.g. `CANARY_ORDER_ID`: a letter, then letters, digits and `_`. */
  name: string;
  /** Its value. Plain: it is checked at program time. */
  value: string;
  /**
   * A regular expression (JavaScript syntax) the whole value must match, the same one the script
   * checks, so a bad value fails `pulumi preview` instead of every canary run. @default any value
   */
  pattern?: string;
  /** Longest value accepted, in characters. @default no limit */
  maxLength?: number;
  /** What the value must be, for the error message ("an id created by POST /fill"). @default "a value matching <pattern>" */
  description?: string;
}

/** The script every canary of the fleet runs, and what it needs. */
export interface CanaryScriptArgs {
  /**
   * Absolute directory `entry` is relative to; esbuild bundles there, so the source map's paths
   * are relative to it. Plain value.
   */
  codeRoot: string;
  /**
   * The script's entry module (TypeScript or JavaScript), relative to `codeRoot`. It exports
   * `handler`, reads CANARY_ENDPOINT, CANARY_SIGNING_REGION, CANARY_TIMEOUT_MS and its
   * `settings`, and fails the run by throwing. Bundled with esbuild into CANARY_SCRIPT_PATH.
   */
  entry: string;
  /** The signed requests it makes against each target (at least one). */
  requests: CanaryRequestArgs[];
  /** Settings it reads from its environment, the same for every canary. @default none */
  settings?: CanarySettingArgs[];
}

const ENV_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
/** A resource path: `/` and segments that are literals or `{parameter}`s. */
const RESOURCE_PATH = /^(\/(?:[A-Za-z0-9._-]+|\{[A-Za-z][A-Za-z0-9_]*\}))+$/;

/** Throws, naming the argument, unless `setting` is well formed and its value passes its checks. */
function assertSetting(what: string, setting: CanarySettingArgs, seen: Set<string>): void {
  const { name, value } = setting;
  if (typeof name !== "string" || !ENV_NAME.test(name) || name.startsWith("AWS_")) {
    throw new Error(
      `${what}.name must be an environment variable name (a letter, then letters, digits and _; not AWS_...): got ${JSON.stringify(name)}`,
    );
  }
  if ((Object.values(CANARY_FLEET_ENV) as string[]).includes(name)) {
    throw new Error(`${what}.name ${name} is set by the fleet itself for every target`);
  }
  if (seen.has(name)) throw new Error(`${what}.name ${name} repeats an earlier setting`);
  seen.add(name);
  let pattern: RegExp | undefined;
  try {
    pattern = setting.pattern === undefined ? undefined : new RegExp(`^(?:${setting.pattern})$`);
  } catch (e) {
    throw new Error(`${what}.pattern is not a regular expression: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const tooLong = setting.maxLength !== undefined && String(value).length > setting.maxLength;
  if (typeof value !== "string" || tooLong || (pattern && !pattern.test(value))) {
    const must = setting.description ?? `a value matching ${setting.pattern ?? ".*"}`;
    const limit =
      setting.maxLength === undefined ? "" : `, at most ${setting.maxLength} characters`;
    throw new Error(`${what} ${name} must be ${must}${limit}: got ${JSON.stringify(value)}`);
  }
}

/** Checks CanaryScriptArgs before any resource exists; every message names the argument. */
export function validateCanaryScript(script: CanaryScriptArgs): void {
  if (typeof script?.codeRoot !== "string" || !path.isAbsolute(script.codeRoot)) {
    throw new Error(
      `script.codeRoot must be an absolute directory: got ${JSON.stringify(script?.codeRoot)}`,
    );
  }
  if (typeof script.entry !== "string" || script.entry.trim() === "") {
    throw new Error(
      `script.entry must name the script's module: got ${JSON.stringify(script.entry)}`,
    );
  }
  if (!Array.isArray(script.requests) || script.requests.length === 0) {
    throw new Error(
      "script.requests must list at least one signed request (the canary role may invoke only those)",
    );
  }
  for (const [i, r] of script.requests.entries()) {
    if (!(Object.values(HttpMethod) as string[]).includes(r.method)) {
      throw new Error(
        `script.requests[${i}].method must be one of ${Object.values(HttpMethod).join(", ")}: got ${JSON.stringify(r.method)}`,
      );
    }
    if (typeof r.path !== "string" || !RESOURCE_PATH.test(r.path)) {
      throw new Error(
        `script.requests[${i}].path must be an API resource path such as /orders/{orderId}: got ${JSON.stringify(r.path)}`,
      );
    }
  }
  const seen = new Set<string>();
  for (const [i, s] of (script.settings ?? []).entries()) {
    assertSetting(`script.settings[${i}]`, s, seen);
  }
}

/** The files of the canary's code zip: the bundled script (and its source map) at CANARY_SCRIPT_PATH. */
export function canaryCodeFiles(script: CanaryScriptArgs): Record<string, string> {
  const bundle = bundleFunction(script.entry, script.codeRoot, { outfile: "canary.js" });
  return {
    [CANARY_SCRIPT_PATH]: bundle.code,
    [`${CANARY_SCRIPT_PATH}.map`]: bundle.sourceMap,
  };
}

/** execute-api ARNs of the script's requests against one API stage. */
export function canaryInvokeArns(
  executionArn: string,
  stageName: string,
  requests: readonly CanaryRequestArgs[],
): string[] {
  return requests.map((r) => `${executionArn}/${stageName}/${r.method}/${executeApiPath(r.path)}`);
}

/** The script's settings as environment variables. */
export function canarySettingsEnv(script: CanaryScriptArgs): Record<string, string> {
  return Object.fromEntries((script.settings ?? []).map((s) => [s.name, s.value]));
}
