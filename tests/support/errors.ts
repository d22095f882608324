/** Awaits `run`, which must fail, and returns what it failed with. */
export async function rejection(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a failure, but it succeeded");
}
