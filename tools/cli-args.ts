/** Command-line helpers shared by npm start, npm run drill, npm run plan and npm run arc. */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** A command-line mistake: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Runs a `util.parseArgs` call, turning its errors into `UsageError`s. */
function usageErrors<R>(parse: () => R): R {
  try {
    return parse();
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
}

/** `util.parseArgs` (strict, no positionals) with its errors turned into `UsageError`s. */
export function parseOptions<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: readonly string[],
  options: T,
) {
  return usageErrors(
    () => parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values,
  );
}

/** `util.parseArgs` (strict, positionals allowed) with its errors turned into `UsageError`s. */
export function parseCommandLine<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: readonly string[],
  options: T,
) {
  return usageErrors(() =>
    parseArgs({ args: [...argv], options, strict: true, allowPositionals: true }),
  );
}

export function intOption(
  name: string,
  raw: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw.trim()))
    throw new UsageError(`--${name} must be a whole number: got ${raw}`);
  const n = Number(raw);
  if (n < min || n > max)
    throw new UsageError(`--${name} must be within ${min}..${max}: got ${raw}`);
  return n;
}

export function numberOption(
  name: string,
  raw: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n))
    throw new UsageError(`--${name} must be a number: got ${raw}`);
  if (n < min || n > max)
    throw new UsageError(`--${name} must be within ${min}..${max}: got ${raw}`);
  return n;
}

export function listOption(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

export function choiceOption<T extends string>(
  name: string,
  raw: string | undefined,
  choices: readonly T[],
): T | undefined {
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name} must be one of ${choices.join(", ")}: got ${raw}`);
  }
  return raw as T;
}

/** "12.3 s" for durations shown to people. */
export function seconds(ms: number, digits = 1): string {
  return `${(ms / 1000).toFixed(digits)} s`;
}

/**
 * What `parse` makes of `argv`, or the exit code when there is nothing to run: 0 after printing
 * `usage` for --help, 2 after printing a usage error followed by `usage`.
 */
export function optionsOrExitCode<T extends object>(
  parse: (argv: readonly string[]) => T | "help",
  argv: readonly string[],
  usage: string,
): T | number {
  let opts: T | "help";
  try {
    opts = parse(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n\n${usage}`);
    return 2;
  }
  if (opts === "help") {
    console.log(usage);
    return 0;
  }
  return opts;
}

/**
 * Runs a command-line entry point and exits with the code it resolves to; an unexpected error
 * is printed whole and exits 1.
 */
export function runCli(main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
