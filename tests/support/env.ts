/**
 * Runs `fn` with exactly `env` among the variables `keys` (the others of `keys` unset), and puts
 * every one of `keys` back as it was afterwards, whether `fn` resolves or throws.
 */
export async function withEnv<T>(
  keys: readonly string[],
  env: Record<string, string>,
  fn: () => Promise<T>,
): Promise<T> {
  const saved = new Map(keys.map((k) => [k, process.env[k]]));
  for (const k of keys) delete process.env[k];
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
