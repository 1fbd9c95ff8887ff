/**
 * Map over items with at most `limit` calls in flight, keeping results in
 * input order. For I/O-bound work (hashing files, copying) where the latency
 * of each operation, not the CPU, is the cost. The first rejection rejects the
 * whole call, after the calls already started have settled.
 * @example const sizes = await mapConcurrent(paths, 8, async (path) => (await stat(path)).size)
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}
