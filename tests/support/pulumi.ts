/**
 * The one Pulumi mock helper of the test suite: the shared mock engine (tools/mock-engine.ts, the
 * same one `plan` uses), plus `promiseOf`, which fails on an unknown or undefined output instead
 * of letting an assertion pass on nothing.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  MockEngine,
  evaluate,
  registeredUrns,
  settle,
  type RecordedResource,
} from "../../tools/mock-engine";

export { MockEngine, registeredUrns, type RecordedResource };

export const PROJECT = "resilient-dynamo";

/** Resolves an output; rejects when it is unknown, failed, or resolves to undefined. */
export async function promiseOf<T>(value: pulumi.Input<T>): Promise<NonNullable<T>> {
  const resolved = await settle(value);
  if (resolved === undefined || resolved === null) throw new Error("output resolved to undefined");
  return resolved as NonNullable<T>;
}

/** Runs `build` under fresh mocks for a stack in `region` and waits for every registration. */
export async function underMocks<T>(
  region: string,
  build: () => T,
  stack = "test",
): Promise<{ engine: MockEngine; result: T }> {
  const engine = new MockEngine({ defaultRegion: region });
  const result = await evaluate(
    engine,
    { project: PROJECT, stack, config: { "aws:region": region } },
    build,
  );
  return { engine, result };
}

/** Parses a JSON policy input (string or object) into a plain object. */
export function json<T = any>(value: unknown): T {
  return (typeof value === "string" ? JSON.parse(value) : value) as T;
}

/** The parent type chain of a registered resource, from its URN (`a$b$c` -> [a, b]). */
export function parentTypes(urns: string[], type: string, name: string): string[] {
  const urn = urns.find(
    (u) => u.endsWith(`::${name}`) && u.split("::")[2]?.split("$").at(-1) === type,
  );
  if (!urn) throw new Error(`no URN for ${type} ${name}`);
  return (urn.split("::")[2] as string).split("$").slice(0, -1);
}

/**
 * Runs `build` under fresh mocks expecting it to throw (a component refusing its args); returns
 * the error and the engine, so a test can check that nothing was created.
 */
export async function refusedUnderMocks(
  region: string,
  build: () => unknown,
): Promise<{ error: Error; engine: MockEngine }> {
  let error: Error | undefined;
  const { engine } = await underMocks(region, () => {
    try {
      build();
    } catch (err) {
      error = err as Error;
    }
  });
  if (!error) throw new Error("expected the build to throw, but it did not");
  return { error, engine };
}
