import { AmbiguousContainerError } from './errors.js';

/** The daemon calls a lookup by reference needs (Docker's API and libpod's alike). */
export interface ContainerLookupClient<I> {
  inspect(ref: string, signal?: AbortSignal): Promise<I>;
  listContainers(signal?: AbortSignal): Promise<ReadonlyArray<{ Id: string }>>;
}

/** How an engine reads its daemon's failures. */
export interface ContainerLookupErrors {
  /** The daemon refused the reference as a prefix of more than one ID. */
  isAmbiguousPrefixError(err: unknown): boolean;
  /** Any other failure as the typed error for the client (not found, unavailable, …). */
  toEngineError(err: unknown, ref: string): Error;
}

/**
 * Inspects `ref` as the daemon resolves it (exact ID, name, unique ID prefix). A prefix of
 * several IDs is an AmbiguousContainerError naming them (12 characters, sorted), as
 * `docker logs` would list them; any other failure is typed by `errors.toEngineError`.
 */
export async function inspectContainerRef<I>(
  client: ContainerLookupClient<I>,
  ref: string,
  signal: AbortSignal | undefined,
  errors: ContainerLookupErrors,
): Promise<I> {
  try {
    return await client.inspect(ref, signal);
  } catch (err) {
    if (!errors.isAmbiguousPrefixError(err)) throw errors.toEngineError(err, ref);
    let all;
    try {
      all = await client.listContainers(signal);
    } catch (listErr) {
      throw errors.toEngineError(listErr, ref);
    }
    const candidates = all
      .filter((c) => c.Id.startsWith(ref))
      .map((c) => c.Id.slice(0, 12))
      .sort();
    throw new AmbiguousContainerError(ref, candidates);
  }
}
